/**
 * Verification (verifyPdf) in a worker thread. Trust anchors travel with the task; OneSeal's own
 * revocation records are asked of the main thread, which holds the database.
 */
import { verifyPdf, type RevocationStatus } from '../verify/index.js';
import type { CallMain } from './serve.js';

export interface VerifyTask {
  bytes: Uint8Array;
  trustAnchors: Uint8Array[];
  now?: Date;
}

export const verifyTask = (t: VerifyTask, call: CallMain) => verifyPdf(t.bytes, {
  trustAnchors: t.trustAnchors,
  now: t.now,
  ownCa: { revocationLookup: (cert) => call('revocation', cert) as Promise<RevocationStatus | undefined> },
});
