/**
 * Why a signature is not (fully) valid. Codes are stable for machines; each comes with a sentence in
 * Chinese and English for the person reading the report, optionally followed by a concrete detail.
 */
export type ReasonCode =
  | 'NOT_SIGNED'
  | 'BYTE_RANGE'
  | 'CONTENTS_MISSING'
  | 'CMS_MALFORMED'
  | 'DIGEST_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'SIGNER_CERT_MISMATCH'
  | 'SIGNER_NOT_SEAL'
  | 'SIGNER_KEY_USAGE'
  | 'CERT_REVOKED'
  | 'CERT_EXPIRED'
  | 'NO_TRUST_ANCHOR'
  | 'REVOCATION_UNKNOWN'
  | 'TIMESTAMP_MISMATCH'
  | 'TIMESTAMP_EXPIRED'
  | 'MODIFIED_AFTER_SIGNING';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface Reason {
  code: ReasonCode;
  message: Bilingual;
}

/** What each code does to a verdict: integrity and modification failures are fatal, trust gaps are not. */
export const FATAL: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'NOT_SIGNED',
  'BYTE_RANGE',
  'CONTENTS_MISSING',
  'CMS_MALFORMED',
  'DIGEST_MISMATCH',
  'SIGNATURE_INVALID',
  'SIGNER_CERT_MISMATCH',
  'SIGNER_NOT_SEAL',
  'CERT_REVOKED',
  'TIMESTAMP_MISMATCH',
  'MODIFIED_AFTER_SIGNING',
]);

/** Reasons that say the signed bytes or the CMS itself are broken (as opposed to trust or later changes). */
export const INTEGRITY: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'BYTE_RANGE',
  'CONTENTS_MISSING',
  'CMS_MALFORMED',
  'DIGEST_MISMATCH',
  'SIGNATURE_INVALID',
  'SIGNER_CERT_MISMATCH',
  'TIMESTAMP_MISMATCH',
]);

const BASE: Record<ReasonCode, Bilingual> = {
  NOT_SIGNED: { zh: '该文档没有任何电子签名或签章。', en: 'The document carries no electronic signature or seal.' },
  BYTE_RANGE: {
    zh: '签名的字节范围（ByteRange）不正确，签名未按规范覆盖文档，可能是签名包装或增量篡改攻击。',
    en: 'The signature byte range is not correct, so the signature does not cover the document as it must (possible signature wrapping or incremental-save attack).',
  },
  CONTENTS_MISSING: {
    zh: '签名值（/Contents）缺失、为空或全为零。',
    en: 'The signature value (/Contents) is missing, empty or all zeros.',
  },
  CMS_MALFORMED: {
    zh: '签名数据（CMS）格式错误，无法解析。',
    en: 'The signature data (CMS) is malformed and cannot be read.',
  },
  DIGEST_MISMATCH: {
    zh: '签名后文档内容被修改：计算出的摘要与签名中记录的摘要不一致。',
    en: 'The signed content was changed after signing: its digest does not match the one recorded in the signature.',
  },
  SIGNATURE_INVALID: {
    zh: '签名值无法用签名者证书的公钥验证通过。',
    en: "The signature value does not verify with the signer certificate's public key.",
  },
  SIGNER_CERT_MISMATCH: {
    zh: '签名者证书缺失，或与签名中绑定的证书不一致。',
    en: 'The signer certificate is missing or is not the one the signature binds to.',
  },
  SIGNER_NOT_SEAL: {
    zh: '签名者证书是时间戳服务或 OCSP 服务的证书，不是印章证书：这不是签章。',
    en: 'The signer certificate belongs to a time-stamping or OCSP service, not to a seal: this is not a seal signature.',
  },
  SIGNER_KEY_USAGE: {
    zh: '签名者证书不是用于签署文档的终端证书（它是 CA 证书，或其密钥用途不含数字签名和不可否认），无法确认这是签章。',
    en: 'The signer certificate is not an end-entity certificate for signing documents (it is a CA certificate, or its key usage has neither digitalSignature nor nonRepudiation), so this cannot be confirmed as a seal.',
  },
  CERT_REVOKED: {
    zh: '签名者证书在签名时间之前已被吊销。',
    en: 'The signer certificate was revoked before the signing time.',
  },
  CERT_EXPIRED: {
    zh: '签名时证书链中的证书不在有效期内。',
    en: 'A certificate in the chain was not within its validity period at the signing time.',
  },
  NO_TRUST_ANCHOR: {
    zh: '无法将签名者证书链接到受信任的根证书，无法确认签名者身份。',
    en: "The signer certificate does not chain to a trusted root, so the signer's identity cannot be confirmed.",
  },
  REVOCATION_UNKNOWN: {
    zh: '无法确定签名者证书的吊销状态。',
    en: 'The revocation status of the signer certificate could not be determined.',
  },
  TIMESTAMP_MISMATCH: {
    zh: '时间戳无效：时间戳未能对应其声称覆盖的数据，或时间戳本身的签名无效。',
    en: 'A time-stamp is not valid: it does not match the data it claims to cover, or its own signature does not verify.',
  },
  TIMESTAMP_EXPIRED: {
    zh: '时间戳服务（TSA）的证书已过期，且没有更晚的存档时间戳在其过期前保护它：该时间戳已不能证明签名时间（需要长期验证续期）。',
    en: "The time-stamping authority's certificate has expired and no later archive time-stamp protected it before it did: the time-stamp no longer proves the signing time (the document needed long-term renewal).",
  },
  MODIFIED_AFTER_SIGNING: {
    zh: '文档在签名之后被以不允许的方式修改。',
    en: 'The document was changed after signing in a way the signature does not permit.',
  },
};

export function reason(code: ReasonCode, detail?: Bilingual): Reason {
  const base = BASE[code];
  if (!detail) return { code, message: { ...base } };
  return { code, message: { zh: `${base.zh}${detail.zh}`, en: `${base.en} ${detail.en}` } };
}

/** The same detail in both languages when it is only data (numbers, names). */
export const detail = (zh: string, en: string): Bilingual => ({ zh, en });
