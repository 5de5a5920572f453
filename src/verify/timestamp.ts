/**
 * RFC 3161 time-stamp tokens: the signature-time-stamp attribute of a signature (imprint over the
 * signature value) and PDF document time-stamps (/SubFilter /ETSI.RFC3161, imprint over the byte range).
 */
import type * as pkijs from 'pkijs';
import { CmsError, OID, attributeValues, parseCms, tstInfoOf, type ParsedCms, type TstInfo } from './cms.js';
import { digest, hashForOid } from './crypto.js';
import { sameBytes } from '../pki/der.js';
import { verifyCmsIntegrity } from './integrity.js';
import { detail, reason, type Reason } from './reasons.js';

export interface TimestampCheck {
  /** The TSA's claimed time (genTime), when the token could be read. */
  genTime?: Date;
  tsaCert?: pkijs.Certificate;
  token?: ParsedCms;
  /** Empty when the token is intact and matches the data it stamps. */
  reasons: Reason[];
}

const broken = (zh: string, en: string): Reason => reason('TIMESTAMP_MISMATCH', detail(zh, en));

/**
 * Checks a token: its own CMS integrity, and that its message imprint is the digest of `stamped`.
 * `extraCerts` may supply the TSA certificate when the token omits it (certReq false).
 */
export function checkTimestampToken(
  token: ParsedCms | Uint8Array,
  stamped: Uint8Array[],
  extraCerts: pkijs.Certificate[] = [],
): TimestampCheck {
  let cms: ParsedCms;
  try {
    cms = token instanceof Uint8Array ? parseCms(token) : token;
  } catch (e) {
    return { reasons: [broken('时间戳令牌无法解析。', `The time-stamp token cannot be read (${(e as Error).message}).`)] };
  }
  let info: TstInfo;
  try {
    info = tstInfoOf(cms);
  } catch (e) {
    if (!(e instanceof CmsError)) throw e;
    return { token: cms, reasons: [broken('时间戳令牌不包含 TSTInfo。', e.message)] };
  }
  const reasons: Reason[] = [];
  const own = verifyCmsIntegrity(cms, [cms.eContent!], extraCerts);
  if (own.reasons.length > 0) {
    const codes = own.reasons.map((r) => r.code).join(', ');
    reasons.push(broken(`时间戳令牌本身的签名无效（${codes}）。`, `The token's own signature does not hold (${codes}).`));
  }
  const hash = hashForOid(info.imprintAlgorithm);
  if (!hash) {
    reasons.push(broken('时间戳使用了不支持的摘要算法。', 'The time-stamp uses an unsupported digest algorithm.'));
  } else if (!sameBytes(digest(hash, ...stamped), info.imprint)) {
    reasons.push(broken('时间戳的消息摘要与被盖时间戳的数据不一致。', 'Its message imprint does not match the stamped data.'));
  }
  return { genTime: info.genTime, tsaCert: own.signerCert, token: cms, reasons };
}

/** The signature-time-stamp tokens in a signature's unsigned attributes, checked against its signature value. */
export function checkSignatureTimestamps(cms: ParsedCms, extraCerts: pkijs.Certificate[] = []): TimestampCheck[] {
  return attributeValues(cms.unsignedAttrs, OID.signatureTimeStamp).map((der) => checkTimestampToken(der, [cms.signatureValue], extraCerts));
}
