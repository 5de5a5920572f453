/**
 * `oneseal seal policy ID --every-days N --after-signatures N | --none`: sets a seal's rotation policy
 * (proposed where two-person control applies). The scheduler rotates only under an approved policy.
 */
import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';
import { numberOr, positional } from './seal.js';

export const sealPolicy: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal policy ID --every-days N --after-signatures N | --none');
    const everyDays = numberOr(ctx, 'every-days');
    const afterSignatures = numberOr(ctx, 'after-signatures');
    const none = ctx.values.none === true;
    if (none === (everyDays !== undefined || afterSignatures !== undefined)) {
      throw new UsageError('give --every-days N and/or --after-signatures N, or --none to remove the policy');
    }
    const policy = none ? null : { ...(everyDays !== undefined ? { everyDays } : {}), ...(afterSignatures !== undefined ? { afterSignatures } : {}) };
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'seal.rotation-policy', { sealId: id, policy }), (seal) =>
        seal.rotationPolicy ? `rotation policy of ${id}: ${JSON.stringify(seal.rotationPolicy)}, approved by ${(seal.rotationPolicyApprovedBy as string[]).join(', ')}` : `${id} has no rotation policy now`, { flat: true }));
  },
};
