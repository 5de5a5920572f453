import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { currentStatusList, currentTrustList } from '../offline/documents.js';
import type { SignedDocument } from '../offline/signed-documents.js';
import { openServices, type Services } from '../services.js';
import { printResult, UsageError, type Command } from './command.js';

/** `pki trust-list` and `pki status-list`: the signed lists as the /.well-known routes serve them, for offline verifiers. */
function listCommand(what: string, make: (services: Services) => Promise<SignedDocument>, route: string): Command {
  return {
    name: `pki ${what}`,
    summary: `write the signed ${what.replace('-', ' ')} (JWS JSON), as GET ${route} serves it, for offline verifiers`,
    usage: '-o FILE ',
    options: { out: { type: 'string', short: 'o' } },
    async run(ctx) {
      const out = ctx.values.out;
      if (typeof out !== 'string' || out === '') throw new UsageError('say where to write it: -o FILE');
      const services = await openServices(loadConfig(ctx.io.env));
      try {
        const doc = await make(services);
        await writeFile(out, JSON.stringify(doc.jws));
        const [issuedAt, nextUpdate] = [doc.issuedAt.toISOString(), doc.nextUpdate.toISOString()];
        printResult(ctx, { file: out, issuedAt, nextUpdate }, `wrote the ${what.replace('-', ' ')} of ${issuedAt} to ${out} (valid until ${nextUpdate})`);
        return 0;
      } finally {
        await services.close();
      }
    },
  };
}

export const pkiTrustList = listCommand('trust-list', currentTrustList, '/.well-known/oneseal/trust-list.json');
export const pkiStatusList = listCommand('status-list', currentStatusList, '/.well-known/oneseal/status-list.json');
