import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import type { CommandRunner } from './command.js';
import { personName } from './user-input.js';

export const userResetTotp: CommandRunner = {
  async run(ctx) {
    const name = personName(ctx, 'user reset-totp NAME');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.reset-totp', { name }), (r) => `new TOTP secret for ${String(r.name)}; their sessions ended`, { flat: true }));
  },
};
