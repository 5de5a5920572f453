import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import { TAG, children, contentOf, readTlv, tlvBytes } from '../signing/der.js';
import { digest } from './sign.js';

export type CertificateInput = pkijs.Certificate | Uint8Array;

/** Parses DER (or accepts an already parsed certificate) so callers can pass either. */
export function toCertificate(input: CertificateInput): pkijs.Certificate {
  if (input instanceof pkijs.Certificate) return input;
  try {
    return pkijs.Certificate.fromBER(input);
  } catch (cause) {
    throw new OneSealError('invalid-certificate', 'unprocessable', 'The certificate is not valid DER X.509.', { cause });
  }
}

/** DER a certificate was parsed from, for callers that never mutate it (re-encoding costs more than parsing). */
const parsedFrom = new WeakMap<pkijs.Certificate, Uint8Array>();

/** Records `der` as the encoding of `cert`; only for certificates that will not be modified afterwards. */
export function rememberDer(cert: pkijs.Certificate, der: Uint8Array): void {
  parsedFrom.set(cert, der);
}

export function certificateDer(cert: CertificateInput): Uint8Array {
  if (!(cert instanceof pkijs.Certificate)) return cert;
  return parsedFrom.get(cert)?.slice() ?? new Uint8Array(cert.toSchema(false).toBER());
}

const parsedOnceCache = new WeakMap<Uint8Array, pkijs.Certificate>();

/**
 * The certificate in `der` parsed once per buffer, for the CA's own certificates, which every
 * time-stamp token and OCSP response carries or names (a parse each time cost more than the rest of
 * the token). Shared, so callers must not mutate it.
 */
export function parsedOnce(der: Uint8Array): pkijs.Certificate {
  let cert = parsedOnceCache.get(der);
  if (!cert) {
    cert = toCertificate(der);
    rememberDer(cert, der.slice());
    parsedOnceCache.set(der, cert);
  }
  return cert;
}

/** Converts PEM to DER; DER input is returned unchanged so file contents of either form work. */
export function pemToDer(pem: string | Uint8Array): Uint8Array {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('latin1');
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) {
    if (typeof pem !== 'string') return pem;
    throw new OneSealError('invalid-pem', 'unprocessable', 'Expected a PEM block (-----BEGIN ...-----).');
  }
  return new Uint8Array(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Whole seconds: DER times with fractions are legal but some validators mishandle them. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(date: Date): pkijs.Time {
  const value = wholeSeconds(date);
  return new pkijs.Time({ type: value.getUTCFullYear() < 2050 ? 0 : 1, value });
}

export function bytesOf(view: ArrayBuffer | ArrayBufferView): Uint8Array {
  return view instanceof ArrayBuffer
    ? new Uint8Array(view)
    : new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

/** A certificate's serial as lowercase hex without sign padding, the form stores and logs use. */
export function serialHex(cert: pkijs.Certificate): string {
  return integerHex(cert.serialNumber);
}

export function integerHex(value: asn1js.Integer): string {
  return unsignedHex(bytesOf(value.valueBlock.valueHexView));
}

function unsignedHex(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

/**
 * The serial (as serialHex writes it), issuer and subject names (DER) of a certificate, read from the
 * TBSCertificate directly: B-LT stamping asks for them on every signature, where a pkijs parse costs more than the rest.
 */
export function certificateNames(der: Uint8Array): { serial: string; issuer: Uint8Array; subject: Uint8Array } {
  const fields = children(der, children(der, readTlv(der, 0))[0]!);
  const at = fields[0]!.tag === TAG.CTX0 ? 1 : 0; // the [0] version is absent in v1 certificates
  const [serial, , issuer, , subject] = fields.slice(at);
  return { serial: unsignedHex(contentOf(der, serial!)), issuer: tlvBytes(der, issuer!), subject: tlvBytes(der, subject!) };
}

/**
 * A positive DER INTEGER from unsigned big-endian bytes (hex or raw): a leading zero is added when the top bit is set,
 * since serials are unsigned by intent but INTEGER is signed.
 */
export function positiveInteger(value: Uint8Array | string): asn1js.Integer {
  if (typeof value === 'string' && !/^[0-9a-fA-F]+$/.test(value)) {
    throw new OneSealError('invalid-serial', 'internal', `"${value}" is not a hexadecimal serial number.`);
  }
  let bytes = typeof value === 'string' ? new Uint8Array(Buffer.from(value.length % 2 ? `0${value}` : value, 'hex')) : value;
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) bytes = new Uint8Array([0]);
  const valueHex = bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : Buffer.from(bytes);
  return new asn1js.Integer({ valueHex: bytesOf(valueHex) });
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spki: pkijs.PublicKeyInfo): Uint8Array {
  return digest('SHA-1', bytesOf(spki.subjectPublicKey.valueBlock.valueHexView));
}

export function parseSpki(der: Uint8Array): pkijs.PublicKeyInfo {
  try {
    return pkijs.PublicKeyInfo.fromBER(der);
  } catch (cause) {
    throw new OneSealError('invalid-public-key', 'unprocessable', 'The public key is not a DER SubjectPublicKeyInfo.', { cause });
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/** The certificate's subjectKeyIdentifier, or one computed from its key when the extension is missing. */
export function subjectKeyIdentifierOf(cert: pkijs.Certificate): Uint8Array {
  const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.14');
  const parsed = ext?.parsedValue as asn1js.OctetString | undefined;
  return parsed ? bytesOf(parsed.valueBlock.valueHexView) : keyIdentifier(cert.subjectPublicKeyInfo);
}

/**
 * Guards against a configuration that pairs a certificate with the wrong HSM key: the output would be
 * well-formed but fail every verification, far from the cause.
 */
export function assertSignerOwns(signer: { spki: Uint8Array }, cert: pkijs.Certificate, role: string): void {
  const signerKey = bytesOf(parseSpki(signer.spki).subjectPublicKey.valueBlock.valueHexView);
  const certKey = bytesOf(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
  if (!sameBytes(signerKey, certKey)) {
    throw new OneSealError('signer-key-mismatch', 'internal', `The ${role} signing key does not match the ${role} certificate; check the configured key id.`);
  }
}

export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A DER named-bit-list BIT STRING (keyUsage, PKIFailureInfo): bit 0 is the first byte's high bit, trailing zero bits dropped. */
export function namedBits(bits: number[]): asn1js.BitString {
  const max = Math.max(...bits);
  const bytes = new Uint8Array((max >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (max & 7) });
}
