/**
 * Reads a CMS SignedData (a PDF signature's /Contents, or an RFC 3161 time-stamp token) into the few
 * parts verification needs. Parsing never verifies anything; integrity.ts does.
 *
 * Plain DER with one SignerInfo (what nearly every signer writes) is taken apart at the byte level,
 * with certificates parsed once per distinct encoding (certs.ts): asn1js's schema parsing costs far
 * more than the cryptography. Anything else (BER, several SignerInfos, oddities) goes through pkijs's
 * full parse, which also decides how malformed input is rejected.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hashForOid, type HashName } from './crypto.js';
import { bytesOf, sameBytes } from '../pki/der.js';
import { TAG, children, contentOf, generalizedTime, oid, readTlv, tlvBytes, type Tlv } from '../signing/der.js';
import { certificateFromDer, issuerAndSerialOf } from './certs.js';

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

/** An attribute with the DER of each value (signed attributes are DER by RFC 5652 §5.4). */
export interface Attribute {
  type: string;
  values: Uint8Array[];
}

/** What signature checks need of an AlgorithmIdentifier (a pkijs.AlgorithmIdentifier is one). */
export interface Algorithm {
  algorithmId: string;
  /** asn1js value of the parameters, when present and not NULL. */
  algorithmParams?: unknown;
}

export interface ParsedCms {
  /** The whole SignedData as pkijs objects, parsed on first use (verification itself never needs it). */
  readonly signedData: pkijs.SignedData;
  signerInfoCount: number;
  certificates: pkijs.Certificate[];
  crls: pkijs.CertificateRevocationList[];
  /** The first SignerInfo's SignerIdentifier, as DER. */
  sid: Uint8Array;
  signatureAlgorithm: Algorithm;
  signedAttrs?: Attribute[];
  unsignedAttrs: Attribute[];
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
  return parseDer(bytes) ?? parseBer(bytes);
}

type Parts = Omit<ParsedCms, 'signedData' | 'signerCert' | 'digestHash'>;

function assemble(parts: Parts, signedData: () => pkijs.SignedData): ParsedCms {
  let full: pkijs.SignedData | undefined;
  return {
    ...parts,
    get signedData() {
      return (full ??= signedData());
    },
    signerCert: parts.certificates.find((c) => matchesSid(c, parts.sid)),
    digestHash: hashForOid(parts.digestAlgorithmOid),
  };
}

function parseSignedData(bytes: Uint8Array): pkijs.SignedData {
  const parsed = asn1js.fromBER(bytes, BER_LIMITS);
  if (parsed.offset === -1) throw new CmsError(`not DER: ${parsed.result.error}`);
  try {
    const ci = new pkijs.ContentInfo({ schema: parsed.result });
    if (ci.contentType !== OID.signedData) throw new CmsError(`content type ${ci.contentType} is not SignedData`);
    return new pkijs.SignedData({ schema: ci.content });
  } catch (e) {
    throw e instanceof CmsError ? e : new CmsError(e instanceof Error ? e.message : String(e));
  }
}

const derOf = (block: { toBER(sizeOnly?: boolean): ArrayBuffer }): Uint8Array => bytesOf(block.toBER(false));

function attributesOf(attrs: pkijs.SignedAndUnsignedAttributes | undefined): Attribute[] | undefined {
  return attrs?.attributes.map((a) => ({ type: a.type, values: a.values.map(derOf) }));
}

function parseBer(bytes: Uint8Array): ParsedCms {
  const signedData = parseSignedData(bytes);
  if (signedData.signerInfos.length === 0) throw new CmsError('the CMS has no SignerInfo');
  const si = signedData.signerInfos[0]!;
  const eci = signedData.encapContentInfo;
  let signedAttrsDer: Uint8Array | undefined;
  if (si.signedAttrs) {
    signedAttrsDer = new Uint8Array(si.signedAttrs.encodedValue.slice(0));
    signedAttrsDer[0] = TAG.SET; // [0] IMPLICIT → SET OF, as RFC 5652 §5.4 requires for the signature input
  }
  return assemble(
    {
      signerInfoCount: signedData.signerInfos.length,
      certificates: (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate),
      crls: (signedData.crls ?? []).filter((c): c is pkijs.CertificateRevocationList => c instanceof pkijs.CertificateRevocationList),
      sid: derOf(si.sid instanceof pkijs.IssuerAndSerialNumber ? si.sid.toSchema() : (si.sid as asn1js.BaseBlock)),
      signatureAlgorithm: si.signatureAlgorithm,
      signedAttrs: attributesOf(si.signedAttrs),
      unsignedAttrs: attributesOf(si.unsignedAttrs) ?? [],
      digestAlgorithmOid: si.digestAlgorithm.algorithmId,
      eContentType: eci.eContentType,
      eContent: eci.eContent ? octets(eci.eContent) : undefined,
      signedAttrsDer,
      signatureValue: bytesOf(si.signature.valueBlock.valueHexView),
    },
    () => signedData,
  );
}

/** eContent may be a primitive or a constructed (BER, chunked) OCTET STRING. */
function octets(o: asn1js.OctetString): Uint8Array {
  if (!o.idBlock.isConstructed) return bytesOf(o.valueBlock.valueHexView);
  const parts = (o.valueBlock.value as asn1js.OctetString[]).map(octets);
  return Buffer.concat(parts);
}

const SIGNED_DATA_OID = oid(OID.signedData);
const CONSTRUCTED = 0x20;
const OCTET_STRING_CONSTRUCTED = 0x24;
const NULL = 0x05;
const SKI_SID = 0x80;

/** Marks input the byte-level reader leaves to pkijs. */
class NotPlain extends Error {}

function expect(ok: boolean): asserts ok {
  if (!ok) throw new NotPlain();
}

/** The byte-level reading of parseCms; undefined whenever the input is not the plain case. */
function parseDer(bytes: Uint8Array): ParsedCms | undefined {
  try {
    const ci = readTlv(bytes, 0);
    expect(ci.tag === TAG.SEQUENCE);
    const [type, wrapped, ...moreCi] = children(bytes, ci);
    expect(type !== undefined && wrapped?.tag === TAG.CTX0 && moreCi.length === 0 && sameBytes(tlvBytes(bytes, type), SIGNED_DATA_OID));
    const [sd, ...moreSd] = children(bytes, wrapped!);
    expect(sd?.tag === TAG.SEQUENCE && moreSd.length === 0);
    // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, [0] certificates?, [1] crls?, signerInfos SET }
    const fields = children(bytes, sd!);
    let i = 0;
    const [version, digestAlgorithms, encap] = [fields[i++], fields[i++], fields[i++]];
    const certSet = fields[i]?.tag === TAG.CTX0 ? fields[i++] : undefined;
    const crlSet = fields[i]?.tag === TAG.CTX1 ? fields[i++] : undefined;
    const infos = fields[i++];
    expect(i === fields.length && version?.tag === TAG.INTEGER && digestAlgorithms?.tag === TAG.SET && encap?.tag === TAG.SEQUENCE && infos?.tag === TAG.SET);
    for (const alg of children(bytes, digestAlgorithms!)) algorithm(bytes, alg);
    const signerInfos = children(bytes, infos!);
    expect(signerInfos.length === 1);
    const certificates: pkijs.Certificate[] = [];
    for (const c of certSet ? children(bytes, certSet) : []) {
      expect(c.tag === TAG.SEQUENCE);
      certificates.push(certificateFromDer(tlvBytes(bytes, c)));
    }
    const crls: pkijs.CertificateRevocationList[] = [];
    for (const c of crlSet ? children(bytes, crlSet) : []) {
      expect(c.tag === TAG.SEQUENCE);
      crls.push(pkijs.CertificateRevocationList.fromBER(tlvBytes(bytes, c).slice()));
    }
    return assemble(
      { signerInfoCount: 1, certificates, crls, ...encapsulated(bytes, encap!), ...signerInfo(bytes, signerInfos[0]!) },
      () => parseSignedData(bytes),
    );
  } catch {
    // Whatever the reason (not DER, unexpected shape, a certificate pkijs rejects), pkijs has the final word.
    return undefined;
  }
}

/** EncapsulatedContentInfo ::= SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING OPTIONAL } */
function encapsulated(bytes: Uint8Array, encap: Tlv): Pick<Parts, 'eContentType' | 'eContent'> {
  const [type, explicit, ...more] = children(bytes, encap);
  expect(type?.tag === TAG.OID && more.length === 0);
  const eContentType = oidText(contentOf(bytes, type!));
  if (!explicit) return { eContentType };
  expect(explicit.tag === TAG.CTX0);
  const [octetString, ...moreContent] = children(bytes, explicit);
  expect(octetString?.tag === TAG.OCTET_STRING && moreContent.length === 0);
  return { eContentType, eContent: contentOf(bytes, octetString!).slice() };
}

/**
 * SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT SET OPTIONAL,
 *   signatureAlgorithm, signature OCTET STRING, unsignedAttrs [1] IMPLICIT SET OPTIONAL }
 */
function signerInfo(bytes: Uint8Array, info: Tlv): Omit<Parts, 'signerInfoCount' | 'certificates' | 'crls' | 'eContentType' | 'eContent'> {
  expect(info.tag === TAG.SEQUENCE);
  const fields = children(bytes, info);
  let i = 0;
  const [version, sid, digestAlg] = [fields[i++], fields[i++], fields[i++]];
  const signed = fields[i]?.tag === TAG.CTX0 ? fields[i++] : undefined;
  const [sigAlg, signature] = [fields[i++], fields[i++]];
  const unsigned = fields[i]?.tag === TAG.CTX1 ? fields[i++] : undefined;
  expect(i === fields.length && version?.tag === TAG.INTEGER && (sid?.tag === TAG.SEQUENCE || sid?.tag === SKI_SID));
  expect(digestAlg !== undefined && sigAlg !== undefined && signature?.tag === TAG.OCTET_STRING);
  if (sid!.tag === TAG.SEQUENCE) {
    // IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER }
    const [issuer, serial, ...more] = children(bytes, sid!);
    expect(issuer?.tag === TAG.SEQUENCE && serial?.tag === TAG.INTEGER && more.length === 0);
    wellFormed(bytes, issuer!);
  }
  let signedAttrsDer: Uint8Array | undefined;
  if (signed) {
    // A copy: on a Buffer, slice() is a view, and the caller's token would change under it.
    signedAttrsDer = Uint8Array.from(tlvBytes(bytes, signed));
    signedAttrsDer[0] = TAG.SET; // [0] IMPLICIT → SET OF, as RFC 5652 §5.4 requires for the signature input
  }
  return {
    sid: tlvBytes(bytes, sid!).slice(),
    digestAlgorithmOid: algorithm(bytes, digestAlg!).algorithmId,
    signatureAlgorithm: algorithm(bytes, sigAlg!),
    signedAttrs: signed ? attributes(bytes, signed) : undefined,
    unsignedAttrs: unsigned ? attributes(bytes, unsigned) : [],
    signedAttrsDer,
    signatureValue: contentOf(bytes, signature!).slice(),
  };
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
function algorithm(bytes: Uint8Array, t: Tlv): Algorithm {
  expect(t.tag === TAG.SEQUENCE);
  const [id, params, ...more] = children(bytes, t);
  expect(id?.tag === TAG.OID && more.length === 0);
  const algorithmId = oidText(contentOf(bytes, id!));
  if (!params || params.tag === NULL) return { algorithmId };
  const parsed = asn1js.fromBER(tlvBytes(bytes, params).slice());
  expect(parsed.offset !== -1);
  return { algorithmId, algorithmParams: parsed.result };
}

/** Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }, in a [0]/[1] IMPLICIT SET. */
function attributes(bytes: Uint8Array, set: Tlv): Attribute[] {
  return children(bytes, set).map((attr) => {
    expect(attr.tag === TAG.SEQUENCE);
    const [type, values, ...more] = children(bytes, attr);
    expect(type?.tag === TAG.OID && values?.tag === TAG.SET && more.length === 0);
    const items = children(bytes, values!);
    for (const v of items) wellFormed(bytes, v);
    return { type: oidText(contentOf(bytes, type!)), values: items.map((v) => tlvBytes(bytes, v).slice()) };
  });
}

/** What asn1js would insist on for an opaque value: every constructed encoding nests properly, in DER. */
function wellFormed(bytes: Uint8Array, t: Tlv): void {
  if ((t.tag & CONSTRUCTED) === 0) return;
  expect(t.tag !== OCTET_STRING_CONSTRUCTED);
  for (const c of children(bytes, t)) wellFormed(bytes, c);
}

/** Dotted text of an OBJECT IDENTIFIER's content octets (arcs beyond 2^53 are not used in CMS). */
export function oidText(content: Uint8Array): string {
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < content.length; i++) {
    const b = content[i]!;
    v = v * 128 + (b & 0x7f);
    if (!Number.isSafeInteger(v)) throw new CmsError('OBJECT IDENTIFIER arc out of range');
    if (b & 0x80) continue;
    if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
    else arcs.push(v);
    v = 0;
  }
  if (arcs.length === 0 || content[content.length - 1]! & 0x80) throw new CmsError('malformed OBJECT IDENTIFIER');
  return arcs.join('.');
}

/** Whether `cert` is the one a SignerIdentifier (DER) names. */
export function matchesSid(cert: pkijs.Certificate, sid: Uint8Array): boolean {
  try {
    const t = readTlv(sid, 0);
    if (t.tag === TAG.SEQUENCE) {
      const [issuer, serial] = children(sid, t);
      if (issuer?.tag !== TAG.SEQUENCE || serial?.tag !== TAG.INTEGER) return false;
      const own = issuerAndSerialOf(cert);
      if (!sameBytes(contentOf(sid, serial), own.serial)) return false;
      if (sameBytes(tlvBytes(sid, issuer), own.issuer)) return true;
      // Equal names need not be equal bytes (string types, case, spacing): pkijs's comparison decides.
      return cert.issuer.isEqual(pkijs.IssuerAndSerialNumber.fromBER(sid).issuer);
    }
    if (t.tag !== SKI_SID) return false;
    const ext = cert.extensions?.find((e) => e.extnID === '2.5.29.14');
    const parsed = ext?.parsedValue;
    const own = parsed instanceof asn1js.OctetString ? bytesOf(parsed.valueBlock.valueHexView) : undefined;
    return own !== undefined && sameBytes(own, contentOf(sid, t));
  } catch {
    return false;
  }
}

/** The DER of each value of an attribute (the first with that type). */
export function attributeValues(attrs: Attribute[] | undefined, type: string): Uint8Array[] {
  return attrs?.find((a) => a.type === type)?.values ?? [];
}

/** The TLV of a DER value and the bytes it lies in, or undefined when it is not readable DER. */
export function readValue(der: Uint8Array | undefined): Tlv | undefined {
  if (!der) return undefined;
  try {
    return readTlv(der, 0);
  } catch {
    return undefined;
  }
}

export function messageDigestOf(cms: ParsedCms): Uint8Array | undefined {
  const der = attributeValues(cms.signedAttrs, OID.messageDigest)[0];
  const t = readValue(der);
  return t?.tag === TAG.OCTET_STRING ? contentOf(der!, t) : undefined;
}

export function signingTimeOf(cms: ParsedCms): Date | undefined {
  const der = attributeValues(cms.signedAttrs, OID.signingTime)[0];
  if (!der) return undefined;
  const v = asn1js.fromBER(der).result;
  if (v instanceof asn1js.UTCTime || v instanceof asn1js.GeneralizedTime) return v.toDate();
  return undefined;
}

export interface TstInfo {
  genTime: Date;
  imprintAlgorithm: string;
  imprint: Uint8Array;
}

/**
 * TSTInfo ::= SEQUENCE { version, policy, messageImprint SEQUENCE { hashAlgorithm, hashedMessage }, serialNumber,
 * genTime GeneralizedTime, … }: RFC 3161 §2.4.2 fixes genTime to "YYYYMMDDhhmmss[.s…]Z", read here directly;
 * anything else goes through pkijs.
 */
function tstInfoDer(der: Uint8Array): TstInfo | undefined {
  try {
    const top = readTlv(der, 0);
    const [version, policy, imprint, serial, genTime] = top.tag === TAG.SEQUENCE ? children(der, top) : [];
    if (version?.tag !== TAG.INTEGER || policy?.tag !== TAG.OID || imprint?.tag !== TAG.SEQUENCE || serial?.tag !== TAG.INTEGER) return undefined;
    const time = generalizedTime(der, genTime);
    if (!time) return undefined;
    const [alg, hashed, ...more] = children(der, imprint);
    if (!alg || hashed?.tag !== TAG.OCTET_STRING || more.length > 0) return undefined;
    return {
      genTime: time,
      imprintAlgorithm: algorithm(der, alg).algorithmId,
      imprint: contentOf(der, hashed!).slice(),
    };
  } catch {
    return undefined;
  }
}

/** Reads a time-stamp token's TSTInfo (throws CmsError when the token does not hold one). */
export function tstInfoOf(token: ParsedCms): TstInfo {
  if (token.eContentType !== OID.tstInfo || !token.eContent) throw new CmsError('the time-stamp token holds no TSTInfo');
  const direct = tstInfoDer(token.eContent);
  if (direct) return direct;
  try {
    const parsed = asn1js.fromBER(token.eContent, BER_LIMITS);
    if (parsed.offset === -1) throw new CmsError(parsed.result.error);
    const info = new pkijs.TSTInfo({ schema: parsed.result });
    return {
      genTime: info.genTime,
      imprintAlgorithm: info.messageImprint.hashAlgorithm.algorithmId,
      imprint: bytesOf(info.messageImprint.hashedMessage.valueBlock.valueHexView),
    };
  } catch (e) {
    throw new CmsError(`the TSTInfo is malformed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
