/**
 * The signed payload in a licence's QR code (issue 17) and the text the QR code holds:
 *   {publicUrl}/v/{id}#os1.{base64url(COSE_Sign1)}
 * The URL still opens the public page (a fragment never reaches the server); the fragment is checked
 * offline against the trust list. The payload is a deterministic CBOR map with text keys:
 *   id        GB/T 36904 identifier              type      type code (21 characters)
 *   holder    name, masked for persons           holderId  credit code, or masked ID number
 *   issuer    issuer's credit code               version   integer, 1 for the first version
 *   validFrom YYYY-MM-DD                         validTo   YYYY-MM-DD or 长期
 *   issuedAt  integer seconds since 1970 (UTC)   pdf       32-byte SHA-256 of the first revision (qr-update.ts)
 * issuedAt is an integer, not a date text, to keep the QR code small enough to scan from a 100 dpi print.
 */
import { CborError, decodeCbor, encodeCbor, type CborMap } from '../cose/cbor.js';

export const FRAGMENT_PREFIX = 'os1.';

export interface QrPayload {
  id: string;
  type: string;
  holder: string;
  holderId: string;
  issuer: string;
  version: number;
  validFrom: string;
  validTo: string;
  issuedAt: number;
  pdf: Uint8Array;
}

const TEXT_KEYS = ['id', 'type', 'holder', 'holderId', 'issuer', 'validFrom', 'validTo'] as const;
const KEY_COUNT = TEXT_KEYS.length + 3;

export function encodeQrPayload(p: QrPayload): Uint8Array {
  const map: CborMap = new Map();
  for (const k of TEXT_KEYS) map.set(k, p[k]);
  map.set('version', p.version).set('issuedAt', p.issuedAt).set('pdf', p.pdf);
  return encodeCbor(map);
}

/** Reads a payload; throws CborError unless it has exactly the keys above with the right kinds of value. */
export function decodeQrPayload(bytes: Uint8Array): QrPayload {
  const map = decodeCbor(bytes);
  if (!(map instanceof Map) || map.size !== KEY_COUNT) throw new CborError(`the payload must be a map of exactly ${KEY_COUNT} entries`);
  const out: Partial<Record<string, unknown>> = {};
  for (const k of TEXT_KEYS) {
    const v = map.get(k);
    if (typeof v !== 'string') throw new CborError(`payload "${k}" must be text`);
    out[k] = v;
  }
  const [version, issuedAt, pdf] = [map.get('version'), map.get('issuedAt'), map.get('pdf')];
  if (typeof version !== 'number' || version < 1) throw new CborError('payload "version" must be a positive integer');
  if (typeof issuedAt !== 'number' || issuedAt < 0) throw new CborError('payload "issuedAt" must be seconds since 1970');
  if (!(pdf instanceof Uint8Array) || pdf.length !== 32) throw new CborError('payload "pdf" must be a 32-byte SHA-256');
  return { ...(out as Pick<QrPayload, (typeof TEXT_KEYS)[number]>), version, issuedAt, pdf };
}

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** The QR code's text for `url` (the licence's public page) and a COSE_Sign1. */
export function qrText(url: string, cose: Uint8Array): string {
  return `${url}#${FRAGMENT_PREFIX}${base64url(cose)}`;
}

/** The page URL, the licence id in its path, and the COSE_Sign1 bytes from a scanned QR text. */
export function parseQrText(text: string): { url: string; pathId: string; cose: Uint8Array } {
  const hash = text.indexOf('#');
  const fragment = hash < 0 ? '' : text.slice(hash + 1);
  if (!fragment.startsWith(FRAGMENT_PREFIX)) throw new CborError(`the QR text carries no signed payload (#${FRAGMENT_PREFIX}…)`);
  const encoded = fragment.slice(FRAGMENT_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new CborError('the signed payload is not base64url');
  const cose = new Uint8Array(Buffer.from(encoded, 'base64url'));
  // Node's decoder ignores stray low bits in the last character; only the one canonical spelling is accepted.
  if (base64url(cose) !== encoded) throw new CborError('the signed payload is not canonical base64url');
  const url = text.slice(0, hash);
  const match = /\/v\/([^/?#]+)$/.exec(url);
  return { url, pathId: match ? match[1]! : '', cose };
}
