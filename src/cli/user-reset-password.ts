import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import type { CommandRunner } from './command.js';
import { passwordFromFile, personName } from './user-input.js';

export const userResetPassword: CommandRunner = {
  async run(ctx) {
    const name = personName(ctx, 'user reset-password NAME');
    const password = await passwordFromFile(ctx);
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.reset-password', { name, ...(password ? { password } : {}) }),
        (r) => `new password set for ${String(r.name)}; their sessions ended`, { flat: true }));
  },
};
