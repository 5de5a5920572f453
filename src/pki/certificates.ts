import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import type { DigestSigner } from '../hsm/types.js';
import {
  type CertificateInput,
  assertSignerOwns,
  keyIdentifier,
  namedBits,
  parseSpki,
  positiveInteger,
  subjectKeyIdentifierOf,
  toCertificate,
  wholeSeconds,
  x509Time,
} from './der.js';
import { type NameFields, buildName } from './names.js';
import { signTbs, signatureAlgorithmIdentifier } from './sign.js';

export type CertificateProfile = 'seal' | 'tsa' | 'ocsp' | 'audit' | 'archive' | 'licence-qr' | 'ca';

export interface CertificateUrls {
  /** CRL distribution point (http URL of the DER CRL). */
  crl?: string;
  /** OCSP responder URL, put in authorityInfoAccess. */
  ocsp?: string;
  /** URL of the issuer's DER certificate, put in authorityInfoAccess. */
  caIssuers?: string;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

export interface IssueCertificateOptions extends Validity {
  issuer: { cert: CertificateInput; signer: DigestSigner };
  /** DER SubjectPublicKeyInfo of the key being certified. */
  subjectSpki: Uint8Array;
  subject: NameFields;
  profile: CertificateProfile;
  /** Unsigned big-endian serial; 16 random bytes when omitted. */
  serial?: Uint8Array;
  urls?: CertificateUrls;
  /** basicConstraints pathLenConstraint, for the 'ca' profile only. */
  pathLength?: number;
}

export interface SelfSignOptions extends Validity {
  signer: DigestSigner;
  subject: NameFields;
  serial?: Uint8Array;
}

export const OID = {
  documentSigning: '1.3.6.1.5.5.7.3.36',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  accessOcsp: '1.3.6.1.5.5.7.48.1',
  accessCaIssuers: '1.3.6.1.5.5.7.48.2',
} as const;

/** keyUsage bit positions (RFC 5280 4.2.1.3). */
const KU = { digitalSignature: 0, nonRepudiation: 1, keyCertSign: 5, cRLSign: 6 } as const;

interface ProfileRules {
  keyUsage: number[];
  ca: boolean;
  eku?: string[];
  ekuCritical?: boolean;
  ocspNoCheck?: boolean;
}

const PROFILES: Record<CertificateProfile, ProfileRules> = {
  ca: { keyUsage: [KU.keyCertSign, KU.cRLSign], ca: true },
  // documentSigning (RFC 9336) states the purpose; emailProtection is what NSS (pdfsig) and Acrobat require
  // of a signer certificate that carries an EKU at all, so both are listed.
  seal: { keyUsage: [KU.digitalSignature, KU.nonRepudiation], ca: false, eku: [OID.documentSigning, OID.emailProtection] },
  // RFC 3161 2.3: exactly one EKU, timeStamping, and the extension must be critical.
  tsa: { keyUsage: [KU.digitalSignature, KU.nonRepudiation], ca: false, eku: [OID.timeStamping], ekuCritical: true },
  // RFC 6960 4.2.2.2.1: ocsp-nocheck so clients do not ask the responder about its own certificate.
  ocsp: { keyUsage: [KU.digitalSignature], ca: false, eku: [OID.ocspSigning], ocspNoCheck: true },
  // Signs nothing but audit chain head statements. No EKU: none is registered for log signing, and a purpose
  // OID of our own would mean nothing to anyone else; verifiers take this certificate only from pki_keys.
  audit: { keyUsage: [KU.digitalSignature, KU.nonRepudiation], ca: false },
  // Signs archive package manifests (ASiC-E CAdES). No EKU, as for audit: S/MIME tools (openssl cms) accept a
  // signer without one, and the verifier knows this certificate by its subject under OneSeal's root.
  archive: { keyUsage: [KU.digitalSignature, KU.nonRepudiation], ca: false },
  // Signs licence QR payloads (COSE_Sign1); verifiers find it through the signed trust list, by kid.
  'licence-qr': { keyUsage: [KU.digitalSignature], ca: false },
};

/** 16 random bytes with the top bit clear and the next one set: positive, and always exactly 16 bytes in DER. */
export function randomSerial(): Uint8Array {
  const bytes = new Uint8Array(randomBytes(16));
  bytes[0] = 0x40 | (bytes[0]! & 0x3f);
  return bytes;
}

function extension(extnID: string, critical: boolean, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType): pkijs.Extension {
  const schema = 'toSchema' in value ? value.toSchema() : value;
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER(false) });
}

function uri(value: string): pkijs.GeneralName {
  return new pkijs.GeneralName({ type: 6, value });
}

function extensionsFor(
  rules: ProfileRules,
  subjectKeyId: Uint8Array,
  authorityKeyId: Uint8Array,
  urls: CertificateUrls,
  pathLength: number | undefined,
): pkijs.Extension[] {
  const exts = [
    extension(
      '2.5.29.19',
      true,
      new pkijs.BasicConstraints(rules.ca ? { cA: true, ...(pathLength === undefined ? {} : { pathLenConstraint: pathLength }) } : {}),
    ),
    extension('2.5.29.15', true, namedBits(rules.keyUsage)),
    extension('2.5.29.14', false, new asn1js.OctetString({ valueHex: subjectKeyId })),
    extension('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: authorityKeyId }) })),
  ];
  if (rules.eku) exts.push(extension('2.5.29.37', rules.ekuCritical ?? false, new pkijs.ExtKeyUsage({ keyPurposes: rules.eku })));
  if (rules.ocspNoCheck) exts.push(extension(OID.ocspNoCheck, false, new asn1js.Null()));
  const access: pkijs.AccessDescription[] = [];
  if (urls.ocsp) access.push(new pkijs.AccessDescription({ accessMethod: OID.accessOcsp, accessLocation: uri(urls.ocsp) }));
  if (urls.caIssuers) access.push(new pkijs.AccessDescription({ accessMethod: OID.accessCaIssuers, accessLocation: uri(urls.caIssuers) }));
  if (access.length) exts.push(extension('1.3.6.1.5.5.7.1.1', false, new pkijs.InfoAccess({ accessDescriptions: access })));
  if (urls.crl) {
    exts.push(
      extension(
        '2.5.29.31',
        false,
        new pkijs.CRLDistributionPoints({ distributionPoints: [new pkijs.DistributionPoint({ distributionPoint: [uri(urls.crl)] })] }),
      ),
    );
  }
  return exts;
}

function checkValidity({ notBefore, notAfter }: Validity): void {
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw new OneSealError('invalid-validity', 'unprocessable', 'The certificate must end (notAfter) after it starts (notBefore).');
  }
}

interface SignCertificateParams extends Validity {
  issuerName: pkijs.RelativeDistinguishedNames;
  authorityKeyId: Uint8Array;
  signer: DigestSigner;
  subjectName: pkijs.RelativeDistinguishedNames;
  spki: pkijs.PublicKeyInfo;
  rules: ProfileRules;
  serial: Uint8Array;
  urls: CertificateUrls;
  pathLength?: number;
}

async function signCertificate(p: SignCertificateParams): Promise<Uint8Array> {
  const signatureAlgorithm = signatureAlgorithmIdentifier(p.signer);
  const cert = new pkijs.Certificate({
    version: 2,
    serialNumber: positiveInteger(p.serial),
    signature: signatureAlgorithm,
    issuer: p.issuerName,
    notBefore: x509Time(p.notBefore),
    notAfter: x509Time(p.notAfter),
    subject: p.subjectName,
    subjectPublicKeyInfo: p.spki,
    extensions: extensionsFor(p.rules, keyIdentifier(p.spki), p.authorityKeyId, p.urls, p.pathLength),
  });
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER());
  cert.signatureAlgorithm = signatureAlgorithmIdentifier(p.signer);
  cert.signatureValue = new asn1js.BitString({ valueHex: await signTbs(p.signer, cert.tbsView) });
  return new Uint8Array(cert.toSchema(false).toBER());
}

/** Issues a certificate under an existing CA certificate; the CA key signs through its DigestSigner. */
export async function issueCertificate(options: IssueCertificateOptions): Promise<Uint8Array> {
  checkValidity(options);
  const issuer = toCertificate(options.issuer.cert);
  assertSignerOwns(options.issuer.signer, issuer, 'issuer');
  const issuerEnd = issuer.notAfter.value.getTime();
  if (options.notAfter.getTime() > issuerEnd) {
    throw new OneSealError(
      'validity-exceeds-issuer',
      'unprocessable',
      `The certificate would outlive its issuer (issuer valid until ${issuer.notAfter.value.toISOString()}); choose an earlier notAfter.`,
    );
  }
  if (options.pathLength !== undefined && options.profile !== 'ca') {
    throw new OneSealError('invalid-profile', 'internal', 'pathLength only applies to the ca profile.');
  }
  return signCertificate({
    notBefore: wholeSeconds(options.notBefore),
    notAfter: options.notAfter,
    issuerName: issuer.subject,
    authorityKeyId: subjectKeyIdentifierOf(issuer),
    signer: options.issuer.signer,
    subjectName: buildName(options.subject),
    spki: parseSpki(options.subjectSpki),
    rules: PROFILES[options.profile],
    serial: options.serial ?? randomSerial(),
    urls: options.urls ?? {},
    pathLength: options.pathLength,
  });
}

/** A self-signed root CA certificate (profile 'ca'), signed by the key it certifies. */
export async function selfSignCertificate(options: SelfSignOptions): Promise<Uint8Array> {
  checkValidity(options);
  const spki = parseSpki(options.signer.spki);
  const name = buildName(options.subject);
  return signCertificate({
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    issuerName: name,
    authorityKeyId: keyIdentifier(spki),
    signer: options.signer,
    subjectName: name,
    spki,
    rules: PROFILES.ca,
    serial: options.serial ?? randomSerial(),
    urls: {},
  });
}
