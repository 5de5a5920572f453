import { listApiClients } from '../api/clients.js';
import { loadConfig } from '../config.js';
import { openStore } from '../store/db.js';
import { printResult, type Command } from './command.js';

export const clientList: Command = {
  name: 'client list',
  summary: 'list API clients (never their keys)',
  async run(ctx) {
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      const clients = await listApiClients(store.db);
      printResult(ctx, { clients }, clients.length === 0 ? 'no API clients' : clients.map((c) =>
        `${c.id}  ${c.name}${c.isAdmin ? ' [admin]' : ''}  seals: ${c.seals.join(',') || '-'}  ${c.revokedAt ? `REVOKED ${c.revokedAt}` : `since ${c.createdAt}`}`).join('\n'));
      return 0;
    } finally {
      await store.close();
    }
  },
};
