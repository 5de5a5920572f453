/** What `client grant` and `client ungrant` read: the client, and the seals, scopes and licence types named. */
import { listFlag } from './acting.js';
import { UsageError, type CommandContext } from './command.js';


export function grantRequest(ctx: CommandContext, verb: string): { client: string; seals: string[]; scopes: string[]; licenceTypes: string[] } {
  const [client] = ctx.positionals;
  if (!client) throw new UsageError(`name the client: oneseal client ${verb} NAME-OR-ID --seals …|--scopes …|--licence-types …`);
  return { client, seals: listFlag(ctx, 'seals') ?? [], scopes: listFlag(ctx, 'scopes') ?? [], licenceTypes: listFlag(ctx, 'licence-types') ?? [] };
}

export function grantsText(r: Record<string, unknown>): string {
  const list = (k: string) => (r[k] as string[]).join(', ') || '-';
  return `client ${String(r.name)}: scopes ${list('scopes')}; seals ${list('seals')}; licence types ${list('licenceTypes')}`;
}
