import { requestChange } from '../access/two-person.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, printChange } from './acting.js';
import type { Command } from './command.js';
import { personName } from './user-input.js';

export const userResetTotp: Command = {
  name: 'user reset-totp',
  summary: 'give a person a new TOTP secret (shown once to whoever carries it out); their sessions end',
  usage: `NAME ${ACTING_USAGE}`,
  positionals: 1,
  options: ACTING_OPTIONS,
  async run(ctx) {
    const name = personName(ctx, 'user reset-totp NAME');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.reset-totp', { name }), (r) => `new TOTP secret for ${String(r.name)}; their sessions ended`, { flat: true }));
  },
};
