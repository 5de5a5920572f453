/**
 * What the licence QR code encodes for a text: a signed text as the page URL split the way QRCode's
 * optimiser splits it (the identifier packs into numeric and alphanumeric runs) followed by the fragment
 * as bytes. Base64url has no runs long enough for another mode to pay off, and optimising its 600
 * characters cost more than the rest of the encoding. A stand-in of the same length then also gets the
 * same version as the real payload.
 */
import QRCode, { type QRCodeSegment } from 'qrcode';
import { BoundedMemo } from '../bounded-memo.js';

/** Above this length the text is a signed payload (src/licences/qr.ts). */
export const LONG_TEXT = 200;

const MODES = { Numeric: 'numeric', Alphanumeric: 'alphanumeric', Byte: 'byte', Kanji: 'kanji' } as const;

/**
 * The optimiser's split depends only on which class each character is in (digit, QR alphanumeric, other:
 * qrcode's regex.js without Kanji mode) and on the bytes of the others, so a split found once holds for
 * every URL of the same pattern: a deployment's licences differ in digits and check characters. The
 * splits are kept as the modes and character lengths of the segments. Bounded, since URLs come from requests.
 */
type Split = Array<{ mode: 'numeric' | 'alphanumeric' | 'byte'; chars: number }>;
const splits = new BoundedMemo<string, Split>(256);

const patternOf = (url: string): string => url.replace(/[0-9]/g, '0').replace(/[A-Z $%*+\-./:]/g, 'A');

const splitOf = (url: string): Split => splits.get(patternOf(url), () =>
  QRCode.create(url, { errorCorrectionLevel: 'L', maskPattern: 0 }).segments.map((s) => {
    const mode = MODES[s.mode.id];
    if (mode === 'kanji') throw new Error('qrcode chose Kanji mode, which it does only when given a Shift JIS converter');
    return { mode, chars: mode === 'byte' ? Buffer.from(s.data).toString('utf8').length : String(s.data).length };
  }));

/** The page URL in the segments QRCode's optimiser would choose for it. */
export function urlSegments(url: string): QRCodeSegment[] {
  let at = 0;
  return splitOf(url).map(({ mode, chars }): QRCodeSegment => {
    const text = url.slice(at, (at += chars));
    return mode === 'byte' ? { mode, data: Buffer.from(text, 'utf8') } : { mode, data: text };
  });
}

/** The segments (or the plain text, for a short one) the QR code of `text` is made from. */
export function segmentsOf(text: string): string | QRCodeSegment[] {
  const hash = text.indexOf('#');
  if (text.length <= LONG_TEXT || hash < 0) return text;
  const fragment = Buffer.from(text.slice(hash), 'utf8');
  const segments = urlSegments(text.slice(0, hash));
  const last = segments[segments.length - 1];
  if (last?.mode === 'byte') segments[segments.length - 1] = { mode: 'byte', data: Buffer.concat([Buffer.from(last.data), fragment]) };
  else segments.push({ mode: 'byte', data: fragment });
  return segments;
}
