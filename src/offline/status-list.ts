/**
 * The licence status list (GET /.well-known/oneseal/status-list.json, `oneseal pki status-list`): every
 * revoked or superseded licence id with when it ended, signed by the root. It is re-signed as soon as a
 * licence changes (its content differs), otherwise hourly; verifiers holding one past its nextUpdate
 * report the status as stale. Licences not listed were current when it was issued.
 */
import type { Knex } from 'knex';
import { OneSealError } from '../errors.js';
import type { KeyWithCertificate } from '../pki/authority.js';
import { verifyJws } from '../pki/jws.js';
import { listEndedLicences } from '../store/licence-status.js';
import { signedDocument, type SignedDocument } from './signed-documents.js';

export const STATUS_LIST_TYPE = 'oneseal-status-list+jws';

export interface StatusList {
  issuer: { creditCode: string; publicUrl: string };
  revoked: Array<{ id: string; at: string }>;
  superseded: Array<{ id: string; at: string; by: string }>;
  issuedAt: string;
  nextUpdate: string;
}

export async function signedStatusList(db: Knex, root: KeyWithCertificate, issuer: StatusList['issuer'], now?: Date): Promise<SignedDocument> {
  const ended = await listEndedLicences(db);
  const content = {
    issuer,
    revoked: ended.filter((l) => l.status === 'revoked').map((l) => ({ id: l.id, at: l.at })),
    superseded: ended.filter((l) => l.status === 'superseded').map((l) => ({ id: l.id, at: l.at, by: l.supersededBy ?? '' })),
  };
  return signedDocument(db, root, STATUS_LIST_TYPE, content, now);
}

/** A status list's content once its signature by `root` (DER) is checked. */
export function readStatusList(text: string, root: Uint8Array): StatusList {
  const list = verifyJws(text, STATUS_LIST_TYPE, root) as Partial<StatusList>;
  if (!Array.isArray(list.revoked) || !Array.isArray(list.superseded) || typeof list.nextUpdate !== 'string') {
    throw new OneSealError('invalid-signed-document', 'unprocessable', 'the status list lacks its revoked or superseded licences or its nextUpdate');
  }
  return list as StatusList;
}
