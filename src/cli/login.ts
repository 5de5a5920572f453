/**
 * `oneseal login --name NAME`: checks the password and one-time code like POST /v1/sessions and keeps
 * the session in the user's session file (mode 0600), so later seal, client, user and licence commands
 * act as this person. Prompts at a terminal; scripts pass --password-file and --otp.
 */
import { readFile } from 'node:fs/promises';
import { login } from '../access/sessions.js';
import { loadConfig } from '../config.js';
import { openServices } from '../services.js';
import { printResult, UsageError, type CommandRunner } from './command.js';
import { writeSessionFile } from './session-file.js';

export const loginCommand: CommandRunner = {
  async run(ctx) {
    const { name } = ctx.values;
    if (typeof name !== 'string' || name === '') throw new UsageError('say who you are: --name NAME');
    const file = ctx.values['password-file'];
    let password: string;
    if (typeof file === 'string') password = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    else if (ctx.io.prompt) password = await ctx.io.prompt('password: ', { secret: true });
    else throw new UsageError('no terminal to ask for the password: give --password-file FILE');
    const config = loadConfig(ctx.io.env);
    let otp = typeof ctx.values.otp === 'string' ? ctx.values.otp : undefined;
    // Asked for at the terminal when the password was, or when it is required (a script passes --otp).
    if (otp === undefined && ctx.io.prompt && (typeof file !== 'string' || config.sessions.requireTotp)) {
      otp = (await ctx.io.prompt('one-time code (authenticator app): ', { secret: false })).trim() || undefined;
    }
    const services = await openServices(config);
    try {
      const session = await login(services, { name, password, ...(otp !== undefined ? { otp } : {}) }, 'cli');
      writeSessionFile(config.cliSessionFile, { name: session.person.name, token: session.token, expiresAt: session.expiresAt });
      printResult(ctx, { name: session.person.name, roles: session.person.roles, expiresAt: session.expiresAt, sessionFile: config.cliSessionFile },
        `logged in as ${session.person.name} (${session.person.roles.join(', ')}) until ${session.expiresAt}, or ${Math.round(config.sessions.idleMs / 60_000)} minutes without a command`);
      return 0;
    } finally {
      await services.close();
    }
  },
};
