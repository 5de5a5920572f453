/**
 * `oneseal client add --name NAME --seals S1[,S2] [--scopes stamps,licences,verify] [--licence-types T1,…] [--centre CODE]`:
 * a system client; carried out at once it prints its API key once ({id, key, …} with --json).
 */
import { requestChange } from '../access/two-person.js';
import { actAs, listFlag, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';

export const clientAdd: CommandRunner = {
  async run(ctx) {
    const { name } = ctx.values;
    if (typeof name !== 'string') throw new UsageError('give the client a name: --name NAME');
    const scopes = listFlag(ctx, 'scopes');
    const request = { name, seals: listFlag(ctx, 'seals') ?? [], licenceTypes: listFlag(ctx, 'licence-types') ?? [], ...(scopes ? { scopes } : {}),
      ...(typeof ctx.values.centre === 'string' ? { centre: ctx.values.centre } : {}) };
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'client.create', request),
        (r) => `added client ${String(r.id)} (${String(r.name)}; scopes ${(r.scopes as string[]).join(', ')}; seals ${(r.seals as string[]).join(', ') || '-'}${(r.licenceTypes as string[]).length ? `; licence types ${(r.licenceTypes as string[]).join(', ')}` : ''})`,
        { flat: true }));
  },
};
