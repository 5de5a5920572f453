/**
 * How OneSeal verifies documents: trusting its own root (plus any extra anchors) and answering
 * revocation questions about the certificates it issued from its own records.
 */
import { OneSealError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getIssuedCertificate, getPkiKey } from '../store/pki.js';
import type { VerifyOptions } from '../verify/index.js';

export async function ownVerifyOptions(db: Db, extraTrust: Uint8Array[] = []): Promise<VerifyOptions> {
  const root = await getPkiKey(db, 'root');
  if (!root && extraTrust.length === 0) {
    throw new OneSealError('pki-not-initialised', 'unavailable', 'No trust anchor: run `oneseal init`, or pass --trust with the root certificate to trust.');
  }
  return {
    trustAnchors: [...(root ? [root.certificate] : []), ...extraTrust],
    ownCa: {
      async revocationLookup({ serialHex }) {
        const issued = await getIssuedCertificate(db, serialHex.toLowerCase());
        if (!issued) return undefined;
        return issued.status === 'revoked' && issued.revokedAt ? { status: 'revoked', revokedAt: new Date(issued.revokedAt) } : { status: 'good' };
      },
    },
  };
}
