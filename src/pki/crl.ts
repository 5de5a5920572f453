import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OneSealError } from '../errors.js';
import type { DigestSigner } from '../hsm/types.js';
import { type CertificateInput, assertSignerOwns, positiveInteger, subjectKeyIdentifierOf, toCertificate, x509Time } from './der.js';
import { REVOCATION_REASONS, type RevocationReason } from './revocation.js';
import { signTbs, signatureAlgorithmIdentifier } from './sign.js';

export interface RevokedEntry {
  /** Unsigned serial, as hex or big-endian bytes. */
  serial: string | Uint8Array;
  revokedAt: Date;
  reason?: RevocationReason;
}

export interface CreateCrlOptions {
  issuer: { cert: CertificateInput; signer: DigestSigner };
  revoked: RevokedEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonically increasing per issuer (RFC 5280 5.2.3). */
  crlNumber: bigint | number;
}

function extension(extnID: string, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical: false, extnValue: value.toBER() });
}

function integerFromBigint(value: bigint): asn1js.Integer {
  if (value < 0n) throw new OneSealError('invalid-crl-number', 'internal', 'The CRL number must not be negative.');
  return positiveInteger(value.toString(16));
}

/** A v2 CRL signed by the issuer's key, with CRL number, authority key identifier and per-entry reason codes. */
export async function createCrl(options: CreateCrlOptions): Promise<Uint8Array> {
  if (options.nextUpdate.getTime() <= options.thisUpdate.getTime()) {
    throw new OneSealError('invalid-crl-window', 'internal', 'The CRL nextUpdate must be after thisUpdate.');
  }
  const issuer = toCertificate(options.issuer.cert);
  assertSignerOwns(options.issuer.signer, issuer, 'CRL issuer');
  const revokedCertificates = options.revoked.map(
    (entry) =>
      new pkijs.RevokedCertificate({
        userCertificate: positiveInteger(entry.serial),
        revocationDate: x509Time(entry.revokedAt),
        // RFC 5280 5.3.1: "unspecified" is expressed by leaving the reason code out.
        ...(entry.reason && entry.reason !== 'unspecified'
          ? {
              crlEntryExtensions: new pkijs.Extensions({
                extensions: [extension('2.5.29.21', new asn1js.Enumerated({ value: REVOCATION_REASONS[entry.reason] }))],
              }),
            }
          : {}),
      }),
  );
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: signatureAlgorithmIdentifier(options.issuer.signer),
    issuer: issuer.subject,
    thisUpdate: x509Time(options.thisUpdate),
    nextUpdate: x509Time(options.nextUpdate),
    ...(revokedCertificates.length ? { revokedCertificates } : {}),
    crlExtensions: new pkijs.Extensions({
      extensions: [
        extension(
          '2.5.29.35',
          new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: subjectKeyIdentifierOf(issuer) }) }).toSchema(),
        ),
        extension('2.5.29.20', integerFromBigint(BigInt(options.crlNumber))),
      ],
    }),
  });
  crl.tbsView = new Uint8Array((crl.toSchema(true) as asn1js.Sequence).valueBlock.value[0]!.toBER());
  crl.signatureAlgorithm = signatureAlgorithmIdentifier(options.issuer.signer);
  crl.signatureValue = new asn1js.BitString({ valueHex: await signTbs(options.issuer.signer, crl.tbsView) });
  return new Uint8Array(crl.toSchema(false).toBER());
}
