/** Image fields (a holder's photo) travel in licence data as plain base64 of a PNG or JPEG file. */

export interface DecodedImage {
  format: 'png' | 'jpeg';
  bytes: Uint8Array;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes an image field; returns a reason string when it is not base64 of a PNG or JPEG. */
export function decodeImageField(value: string): DecodedImage | string {
  if (value.startsWith('data:')) return 'must be plain base64, without a "data:" URL prefix';
  if (!BASE64.test(value)) return 'must be base64 (A–Z a–z 0–9 + /, padded with =, no line breaks)';
  const bytes = new Uint8Array(Buffer.from(value, 'base64'));
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return { format: 'png', bytes };
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { format: 'jpeg', bytes };
  return 'must be a PNG or JPEG image';
}
