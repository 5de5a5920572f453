/**
 * Reads a CMS SignedData (a PDF signature's /Contents, or an RFC 3161 time-stamp token) into the few
 * parts verification needs. Parsing never verifies anything; integrity.ts does.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hashForOid, type HashName } from './crypto.js';
import { bytesOf, sameBytes } from '../pki/der.js';

export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  signatureTimeStamp: '1.2.840.113549.1.9.16.2.14',
  adbeRevocationInfoArchival: '1.2.840.113583.1.1.8',
} as const;

export class CmsError extends Error {}

export interface ParsedCms {
  signedData: pkijs.SignedData;
  signerInfo: pkijs.SignerInfo;
  signerInfoCount: number;
  certificates: pkijs.Certificate[];
  /** The certificate the SignerInfo's sid names, when it is in the CMS. */
  signerCert?: pkijs.Certificate;
  digestHash?: HashName;
  digestAlgorithmOid: string;
  eContentType: string;
  /** Encapsulated content (TSTInfo for tokens; a digest for adbe.pkcs7.sha1), if not detached. */
  eContent?: Uint8Array;
  /** The DER of the signed attributes as signed: the [0] IMPLICIT tag replaced by SET. */
  signedAttrsDer?: Uint8Array;
  signatureValue: Uint8Array;
}

/**
 * Real signers' /Contents often run on past the CMS (zero padding, and sometimes junk after a broken
 * indefinite-length encoding); the gap is not signed, so trailing bytes are ignored. Node and size
 * limits are raised above asn1js's defaults because embedded CRLs hold tens of thousands of entries.
 */
const BER_LIMITS = { maxNodes: 2_000_000, maxContentLength: 64 * 1024 * 1024 };

export function parseCms(bytes: Uint8Array): ParsedCms {
  const parsed = asn1js.fromBER(bytes, BER_LIMITS);
  if (parsed.offset === -1) throw new CmsError(`not DER: ${parsed.result.error}`);
  let signedData: pkijs.SignedData;
  try {
    const ci = new pkijs.ContentInfo({ schema: parsed.result });
    if (ci.contentType !== OID.signedData) throw new CmsError(`content type ${ci.contentType} is not SignedData`);
    signedData = new pkijs.SignedData({ schema: ci.content });
  } catch (e) {
    throw e instanceof CmsError ? e : new CmsError(e instanceof Error ? e.message : String(e));
  }
  if (signedData.signerInfos.length === 0) throw new CmsError('the CMS has no SignerInfo');
  const signerInfo = signedData.signerInfos[0]!;
  const certificates = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const signedAttrs = signerInfo.signedAttrs;
  let signedAttrsDer: Uint8Array | undefined;
  if (signedAttrs) {
    signedAttrsDer = new Uint8Array(signedAttrs.encodedValue.slice(0));
    signedAttrsDer[0] = 0x31; // [0] IMPLICIT → SET OF, as RFC 5652 §5.4 requires for the signature input
  }
  const eci = signedData.encapContentInfo;
  const eContent = eci.eContent ? octets(eci.eContent) : undefined;
  return {
    signedData,
    signerInfo,
    signerInfoCount: signedData.signerInfos.length,
    certificates,
    signerCert: certificates.find((c) => matchesSid(c, signerInfo.sid)),
    digestAlgorithmOid: signerInfo.digestAlgorithm.algorithmId,
    digestHash: hashForOid(signerInfo.digestAlgorithm.algorithmId),
    eContentType: eci.eContentType,
    eContent,
    signedAttrsDer,
    signatureValue: bytesOf(signerInfo.signature.valueBlock.valueHexView),
  };
}

/** eContent may be a primitive or a constructed (BER, chunked) OCTET STRING. */
function octets(o: asn1js.OctetString): Uint8Array {
  if (!o.idBlock.isConstructed) return bytesOf(o.valueBlock.valueHexView);
  const parts = (o.valueBlock.value as asn1js.OctetString[]).map(octets);
  return Buffer.concat(parts);
}

export function matchesSid(cert: pkijs.Certificate, sid: unknown): boolean {
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return cert.issuer.isEqual(sid.issuer) && cert.serialNumber.isEqual(sid.serialNumber);
  }
  // subjectKeyIdentifier [0] IMPLICIT OCTET STRING
  if (sid instanceof asn1js.BaseBlock) {
    const ski = bytesOf((sid.valueBlock as unknown as { valueHexView: Uint8Array }).valueHexView ?? new Uint8Array());
    const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.14');
    if (!ext) return false;
    const parsed = ext.parsedValue;
    const own = parsed instanceof asn1js.OctetString ? bytesOf(parsed.valueBlock.valueHexView) : undefined;
    return own !== undefined && sameBytes(own, ski);
  }
  return false;
}

/** The values of an attribute in a signed or unsigned attribute set. */
export function attributeValues(attrs: pkijs.SignedAndUnsignedAttributes | undefined, oid: string): unknown[] {
  const a = attrs?.attributes.find((x) => x.type === oid);
  return a ? a.values : [];
}

export function messageDigestOf(cms: ParsedCms): Uint8Array | undefined {
  const v = attributeValues(cms.signerInfo.signedAttrs, OID.messageDigest)[0];
  return v instanceof asn1js.OctetString ? bytesOf(v.valueBlock.valueHexView) : undefined;
}

export function signingTimeOf(cms: ParsedCms): Date | undefined {
  const v = attributeValues(cms.signerInfo.signedAttrs, OID.signingTime)[0];
  if (v instanceof asn1js.UTCTime || v instanceof asn1js.GeneralizedTime) return v.toDate();
  return undefined;
}

/** Reads a time-stamp token's TSTInfo (throws CmsError when the token does not hold one). */
export function tstInfoOf(token: ParsedCms): pkijs.TSTInfo {
  if (token.eContentType !== OID.tstInfo || !token.eContent) throw new CmsError('the time-stamp token holds no TSTInfo');
  try {
    const parsed = asn1js.fromBER(token.eContent, BER_LIMITS);
    if (parsed.offset === -1) throw new CmsError(parsed.result.error);
    return new pkijs.TSTInfo({ schema: parsed.result });
  } catch (e) {
    throw new CmsError(`the TSTInfo is malformed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
