/**
 * `oneseal seal two-person ID on|off`: switching on runs at once; switching off is itself a change for
 * a second seal-admin to approve. Production refuses both: every seal is always under two-person control.
 */
import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';
import { positional } from './seal.js';

export const sealTwoPerson: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal two-person ID on|off');
    const state = positional(ctx, 1, 'seal two-person ID on|off');
    if (state !== 'on' && state !== 'off') throw new UsageError(`say on or off, not "${state}"`);
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'seal.two-person', { sealId: id, on: state === 'on' }),
        (seal) => `${id} is ${seal.twoPersonControl ? 'now under' : 'no longer under'} two-person control`, { flat: true }));
  },
};
