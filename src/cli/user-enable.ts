import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import type { CommandRunner } from './command.js';
import { personName } from './user-input.js';

export const userEnable: CommandRunner = {
  async run(ctx) {
    const name = personName(ctx, 'user enable NAME');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.enable', { name }), (r) => `enabled ${String(r.name)}`, { flat: true }));
  },
};
