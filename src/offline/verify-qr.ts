/**
 * Offline verification of a licence QR code's signed payload against a trust list (and a status list,
 * and optionally the licence PDF presented with it). No network: everything comes from the QR text and
 * the two signed lists. The verdicts map to `oneseal verify-qr`'s exit codes:
 *   genuine (0)   signature valid and the status list, still fresh, does not list the licence;
 *   forged (1)    not a signed payload, unknown kid, bad signature, payload not for the licence in the
 *                 URL, signed by a key whose certificate was revoked before the claimed issue time, or a
 *                 presented PDF whose first revision is not the one signed;
 *   unknown (3)   genuine, but no status list, or the status or trust list is past its nextUpdate;
 *   ended (4)     genuine, but revoked, superseded or past its validTo.
 * A stolen QR key could sign any issue time: revocation protects payloads dated after it only.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { CborError } from '../cose/cbor.js';
import { parseSign1 } from '../cose/sign1.js';
import { chinaDate } from '../licences/service.js';
import { decodeQrPayload, parseQrText, type QrPayload } from '../licences/qr-payload.js';
import { firstRevision } from '../licences/qr-update.js';
import { LONG_TERM } from '../licences/types.js';
import { parseLicenceId } from '../standards/licence-id.js';
import type { StatusList } from './status-list.js';
import type { TrustList } from './trust-list.js';

export type QrVerdict = 'genuine' | 'forged' | 'unknown' | 'ended';
export const QR_EXIT: Record<QrVerdict, number> = { genuine: 0, forged: 1, unknown: 3, ended: 4 };

export interface QrCheck {
  verdict: QrVerdict;
  /** Why, in a sentence a person at a counter understands. */
  reason: string;
  /** The payload when its signature verified. */
  payload?: QrPayload;
  kid?: string;
  /** valid, revoked, superseded, expired, or unknown when no fresh status list says. */
  status?: 'valid' | 'revoked' | 'superseded' | 'expired' | 'unknown';
  /** Whether a presented PDF matched the payload's hash; absent when none was presented. */
  pdfMatches?: boolean;
}

export interface QrCheckInput {
  text: string;
  trustList: TrustList;
  statusList?: StatusList;
  pdf?: Uint8Array;
  now?: Date;
}

const forged = (reason: string, extra: Partial<QrCheck> = {}): QrCheck => ({ verdict: 'forged', reason, ...extra });

/** Why the payload does not belong to the licence the URL names, or undefined. */
function mismatch(payload: QrPayload, pathId: string): string | undefined {
  if (payload.id !== pathId) return `the payload is for licence ${payload.id}, but the QR code opens ${pathId || 'no licence page'}`;
  let parts;
  try {
    parts = parseLicenceId(payload.id);
  } catch {
    return `the payload's licence id ${payload.id} is not a valid identifier`;
  }
  if (parts.typeCode !== payload.type || parts.issuer !== payload.issuer || Number(parts.version) !== payload.version) {
    return 'the payload\'s type, issuer or version contradicts its licence id';
  }
  return undefined;
}

export function verifyQr(input: QrCheckInput): QrCheck {
  const now = input.now ?? new Date();
  let sign1, pathId;
  try {
    const parsed = parseQrText(input.text.trim());
    pathId = parsed.pathId;
    sign1 = parseSign1(parsed.cose);
  } catch (e) {
    if (e instanceof CborError) return forged(`not a OneSeal signed licence QR code: ${e.message}`);
    throw e;
  }
  const kid = Buffer.from(sign1.kid).toString('hex');
  const entry = input.trustList.licenceQr.find((c) => c.kid === kid);
  if (!entry) return forged(`signed by key ${kid}, which the trust list does not know`, { kid });
  const leaf = new X509Certificate(Buffer.from(entry.x5c[0]!, 'base64'));
  if (!verify('sha256', sign1.toBeSigned, { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, sign1.signature)) {
    return forged('the signature does not match the payload: it was altered or forged', { kid });
  }
  let payload: QrPayload;
  try {
    payload = decodeQrPayload(sign1.payload);
  } catch (e) {
    if (e instanceof CborError) return forged(`the signed payload is malformed: ${e.message}`, { kid });
    throw e;
  }
  const wrong = mismatch(payload, pathId);
  if (wrong) return forged(wrong, { kid, payload });
  const issuedAt = payload.issuedAt * 1000;
  if (issuedAt < Date.parse(entry.notBefore) || issuedAt > Date.parse(entry.notAfter)) {
    return forged('the payload claims an issue time outside its key certificate\'s validity', { kid, payload });
  }
  if (entry.status === 'revoked' && entry.revokedAt && issuedAt >= Date.parse(entry.revokedAt)) {
    return forged(`signed by key ${kid} after its certificate was revoked (${entry.revokedAt})`, { kid, payload });
  }
  const signed = { kid, payload };
  let pdfMatches: boolean | undefined;
  if (input.pdf) {
    const revision = firstRevision(input.pdf);
    pdfMatches = !!revision && Buffer.from(createHash('sha256').update(revision).digest()).equals(Buffer.from(payload.pdf));
    if (!pdfMatches) return forged('the presented PDF is not the licence this QR code was issued with', { ...signed, pdfMatches });
  }
  const withPdf = pdfMatches === undefined ? signed : { ...signed, pdfMatches };
  if (payload.validTo !== LONG_TERM && chinaDate(now) > payload.validTo) {
    return { verdict: 'ended', reason: `genuine, but expired on ${payload.validTo}`, status: 'expired', ...withPdf };
  }
  const list = input.statusList;
  if (list) {
    const revoked = list.revoked.find((r) => r.id === payload.id);
    if (revoked) return { verdict: 'ended', reason: `genuine, but revoked at ${revoked.at}`, status: 'revoked', ...withPdf };
    const superseded = list.superseded.find((r) => r.id === payload.id);
    if (superseded) return { verdict: 'ended', reason: `genuine, but superseded by ${superseded.by}`, status: 'superseded', ...withPdf };
  }
  const trustStale = now.getTime() > Date.parse(input.trustList.nextUpdate);
  if (!list || now.getTime() > Date.parse(list.nextUpdate) || trustStale) {
    const why = !list ? 'no status list was given' : trustStale ? `the trust list expired at ${input.trustList.nextUpdate}` : `the status list expired at ${list.nextUpdate}`;
    return { verdict: 'unknown', reason: `genuine signature, but its current status is unknown: ${why}`, status: 'unknown', ...withPdf };
  }
  return { verdict: 'genuine', reason: `genuine and current (status list of ${list.issuedAt})`, status: 'valid', ...withPdf };
}
