/**
 * `oneseal delegate --item CODE --centre CODE` and `oneseal undelegate …`: proposals for a second
 * seal-admin (`oneseal seal approve ID`); with --break-glass they run at once, audited as break-glass.
 */
import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';

function delegationCommand(name: 'delegate' | 'undelegate'): CommandRunner {
  const creating = name === 'delegate';
  return {
    async run(ctx) {
      const { item, centre } = ctx.values;
      if (typeof item !== 'string' || typeof centre !== 'string') throw new UsageError('name the item and the centre: --item CODE --centre CODE');
      return actAs(ctx, async (services, actor) =>
        printChange(ctx, await requestChange(services, actor, creating ? 'delegation.create' : 'delegation.revoke', { item, centre }),
          (r) => `${creating ? 'delegated' : 'took back'} item ${String(r.item)} ${creating ? 'to' : 'from'} centre ${String(r.centre)}`, { flat: true }));
    },
  };
}

export const delegate = delegationCommand('delegate');
export const undelegate = delegationCommand('undelegate');
