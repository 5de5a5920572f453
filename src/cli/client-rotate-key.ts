import { requestChange } from '../access/two-person.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, printChange } from './acting.js';
import { UsageError, type Command } from './command.js';

export const clientRotateKey: Command = {
  name: 'client rotate-key',
  summary: 'a new API key for a system client (same client, grants and history); the old key stops',
  usage: `NAME-OR-ID ${ACTING_USAGE}`,
  positionals: 1,
  options: ACTING_OPTIONS,
  async run(ctx) {
    const [client] = ctx.positionals;
    if (!client) throw new UsageError('name the client: oneseal client rotate-key NAME-OR-ID (see oneseal client list)');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'client.rotate-key', { client }), (r) => `new key for client ${String(r.name)}; the old one no longer works`, { flat: true }));
  },
};
