import { requestChange } from '../access/two-person.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, printChange } from './acting.js';
import type { Command } from './command.js';
import { personName } from './user-input.js';

export const userEnable: Command = {
  name: 'user enable',
  summary: 'enable a disabled person again (under two-person control)',
  usage: `NAME ${ACTING_USAGE}`,
  positionals: 1,
  options: ACTING_OPTIONS,
  async run(ctx) {
    const name = personName(ctx, 'user enable NAME');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.enable', { name }), (r) => `enabled ${String(r.name)}`, { flat: true }));
  },
};
