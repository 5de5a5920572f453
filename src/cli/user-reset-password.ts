import { requestChange } from '../access/two-person.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, printChange } from './acting.js';
import type { Command } from './command.js';
import { passwordFromFile, personName } from './user-input.js';

export const userResetPassword: Command = {
  name: 'user reset-password',
  summary: 'give a person a new password (generated and shown once unless --password-file); their sessions end',
  usage: `NAME [--password-file FILE] ${ACTING_USAGE}`,
  positionals: 1,
  options: { 'password-file': { type: 'string' }, ...ACTING_OPTIONS },
  async run(ctx) {
    const name = personName(ctx, 'user reset-password NAME');
    const password = await passwordFromFile(ctx);
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.reset-password', { name, ...(password ? { password } : {}) }),
        (r) => `new password set for ${String(r.name)}; their sessions ended`, { flat: true }));
  },
};
