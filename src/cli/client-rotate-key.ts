import { requestChange } from '../access/two-person.js';
import { actAs, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';

export const clientRotateKey: CommandRunner = {
  async run(ctx) {
    const [client] = ctx.positionals;
    if (!client) throw new UsageError('name the client: oneseal client rotate-key NAME-OR-ID (see oneseal client list)');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'client.rotate-key', { client }), (r) => `new key for client ${String(r.name)}; the old one no longer works`, { flat: true }));
  },
};
