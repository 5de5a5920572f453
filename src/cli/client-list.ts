import { readClients } from '../access/clients.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';

export const clientList: CommandRunner = {
  async run(ctx) {
    return actAs(ctx, async (services, actor) => {
      const clients = await readClients(services, actor);
      printResult(ctx, { clients }, clients.length === 0 ? 'no system clients' : clients.map((c) =>
        `${c.id}  ${c.name}  scopes: ${c.scopes.join(',')}  seals: ${c.seals.join(',') || '-'}${c.licenceTypes.length ? `  licence types: ${c.licenceTypes.join(',')}` : ''}  ${c.revokedAt ? `REVOKED ${c.revokedAt}` : `since ${c.createdAt}`}`).join('\n'));
      return 0;
    });
  },
};
