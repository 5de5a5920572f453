import { currentStatusList, currentTrustList } from '../offline/documents.js';
import type { SignedDocument } from '../offline/signed-documents.js';
import type { Services } from '../services.js';
import { pkiFileCommand } from './pki-file.js';

/** `pki trust-list` and `pki status-list`: the signed lists as the /.well-known routes serve them, for offline verifiers. */
function listCommand(what: string, make: (services: Services) => Promise<SignedDocument>, route: string) {
  const title = what.replace('-', ' ');
  return pkiFileCommand(what, `write the signed ${title} (JWS JSON), as GET ${route} serves it, for offline verifiers`, async (services) => {
    const doc = await make(services);
    const [issuedAt, nextUpdate] = [doc.issuedAt.toISOString(), doc.nextUpdate.toISOString()];
    return { bytes: JSON.stringify(doc.jws), facts: { issuedAt, nextUpdate }, text: (out) => `wrote the ${title} of ${issuedAt} to ${out} (valid until ${nextUpdate})` };
  });
}

export const pkiTrustList = listCommand('trust-list', currentTrustList, '/.well-known/oneseal/trust-list.json');
export const pkiStatusList = listCommand('status-list', currentStatusList, '/.well-known/oneseal/status-list.json');
