import { createApiClient } from '../api/clients.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { printResult, UsageError, type Command } from './command.js';
import { osUser } from './stamp.js';

export const clientAdd: Command = {
  name: 'client add',
  summary: 'create an API client and print its key (shown only this once)',
  usage: '--name NAME --seals SEAL[,SEAL…] [--admin] ',
  options: { name: { type: 'string' }, seals: { type: 'string' }, admin: { type: 'boolean' } },
  async run(ctx) {
    const { name, seals, admin } = ctx.values;
    if (typeof name !== 'string') throw new UsageError('give the client a name: --name NAME');
    const sealIds = typeof seals === 'string' ? seals.split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (sealIds.length === 0 && !admin) throw new UsageError('grant at least one seal with --seals SEAL[,SEAL…] (or make an --admin client)');
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      const client = await createApiClient(store.db, { name, seals: sealIds, isAdmin: admin === true }, `cli:${osUser()}`);
      printResult(ctx, { id: client.id, key: client.key, name: client.name, seals: client.seals, isAdmin: client.isAdmin },
        `created client ${client.id} (${client.name}${client.isAdmin ? ', admin' : ''}; seals: ${client.seals.join(', ') || 'none'})\n`
        + `API key (shown only now; store it safely):\n${client.key}`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
