import { currentStatusList, currentTrustList } from '../offline/documents.js';
import type { SignedDocument } from '../offline/signed-documents.js';
import type { Services } from '../services.js';
import { pkiFileRunner } from './pki-file.js';

/** `pki trust-list` and `pki status-list`: the signed lists as the /.well-known routes serve them, for offline verifiers. */
function listRunner(title: string, make: (services: Services) => Promise<SignedDocument>) {
  return pkiFileRunner(async (services) => {
    const doc = await make(services);
    const [issuedAt, nextUpdate] = [doc.issuedAt.toISOString(), doc.nextUpdate.toISOString()];
    return { bytes: JSON.stringify(doc.jws), facts: { issuedAt, nextUpdate }, text: (out) => `wrote the ${title} of ${issuedAt} to ${out} (valid until ${nextUpdate})` };
  });
}

export const pkiTrustList = listRunner('trust list', currentTrustList);
export const pkiStatusList = listRunner('status list', currentStatusList);
