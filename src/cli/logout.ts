/** `oneseal logout`: ends the CLI's session (its token stops working) and removes the session file. */
import type { PersonActor } from '../access/actors.js';
import { logout } from '../access/sessions.js';
import { loadConfig } from '../config.js';
import { OneSealError } from '../errors.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';
import { readSessionFile, removeSessionFile } from './session-file.js';

export const logoutCommand: CommandRunner = {
  async run(ctx) {
    const file = loadConfig(ctx.io.env).cliSessionFile;
    if (!readSessionFile(file)) {
      printResult(ctx, { loggedOut: false }, 'not logged in');
      return 0;
    }
    try {
      await actAs(ctx, (services, actor) => logout(services, actor as PersonActor));
    } catch (e) {
      // A session that already ended or expired needs no ending; the file goes either way.
      if (!(e instanceof OneSealError && e.kind === 'unauthorized')) throw e;
    }
    removeSessionFile(file);
    printResult(ctx, { loggedOut: true }, 'logged out');
    return 0;
  },
};
