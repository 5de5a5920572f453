import { readClients } from '../access/clients.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, type Command } from './command.js';

export const clientList: Command = {
  name: 'client list',
  summary: 'list system clients with their scopes and grants (never their keys)',
  usage: ACTING_USAGE,
  options: ACTING_OPTIONS,
  async run(ctx) {
    return actAs(ctx, async (services, actor) => {
      const clients = await readClients(services, actor);
      printResult(ctx, { clients }, clients.length === 0 ? 'no system clients' : clients.map((c) =>
        `${c.id}  ${c.name}  scopes: ${c.scopes.join(',')}  seals: ${c.seals.join(',') || '-'}${c.licenceTypes.length ? `  licence types: ${c.licenceTypes.join(',')}` : ''}  ${c.revokedAt ? `REVOKED ${c.revokedAt}` : `since ${c.createdAt}`}`).join('\n'));
      return 0;
    });
  },
};
