/**
 * Whether a signer certificate can make a seal signature: an end-entity certificate for signing
 * documents. A time-stamping or OCSP-signing certificate never can — anyone can get a TSA's
 * signature over any bytes, which proves when they existed, never that anyone approved them. A CA
 * certificate, or one whose key usage excludes digitalSignature and nonRepudiation, is not meant to
 * sign documents either; some test PKIs sign with such certificates, so those are left undecided.
 */
import * as pkijs from 'pkijs';

const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** KeyUsage bits as RFC 5280 numbers them (bit 0 is the most significant bit of the first byte). */
const DIGITAL_SIGNATURE = 0;
const NON_REPUDIATION = 1;

export type SealCertificateProblem =
  /** A TSA or OCSP responder certificate: the signature is not a seal. */
  | 'service-certificate'
  /** A CA certificate, or key usage without digitalSignature/nonRepudiation: cannot be confirmed as a seal. */
  | 'not-for-signing';

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

export function extendedKeyUsages(cert: pkijs.Certificate): string[] {
  const eku = extension(cert, OID.extKeyUsage)?.parsedValue;
  return eku instanceof pkijs.ExtKeyUsage ? eku.keyPurposes : [];
}

export const isTimeStampingCertificate = (cert: pkijs.Certificate): boolean => extendedKeyUsages(cert).includes(OID.timeStamping);

function keyUsageBit(cert: pkijs.Certificate, bit: number): boolean | undefined {
  const ku = extension(cert, OID.keyUsage)?.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
  const bytes = ku?.valueBlock?.valueHexView;
  if (!bytes) return undefined;
  const byte = bytes[bit >> 3] ?? 0;
  return (byte & (0x80 >> (bit & 7))) !== 0;
}

export function sealCertificateProblem(cert: pkijs.Certificate): SealCertificateProblem | undefined {
  const ekus = extendedKeyUsages(cert);
  if (ekus.includes(OID.timeStamping) || ekus.includes(OID.ocspSigning)) return 'service-certificate';
  const bc = extension(cert, OID.basicConstraints)?.parsedValue;
  if (bc instanceof pkijs.BasicConstraints && bc.cA === true) return 'not-for-signing';
  const hasKeyUsage = extension(cert, OID.keyUsage) !== undefined;
  if (hasKeyUsage && !keyUsageBit(cert, DIGITAL_SIGNATURE) && !keyUsageBit(cert, NON_REPUDIATION)) return 'not-for-signing';
  return undefined;
}
