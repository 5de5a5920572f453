/**
 * Cryptographic integrity of one CMS SignerInfo: the content digest, the signature over the signed
 * attributes, and the binding to the signer certificate (ESS signing-certificate). Used for PDF
 * signatures and for time-stamp tokens alike.
 */
import type * as pkijs from 'pkijs';
import { OID, attributeValues, matchesSid, messageDigestOf, oidText, readValue, type ParsedCms } from './cms.js';
import { TAG, children, contentOf } from '../signing/der.js';
import { digest, hashForOid, publicKeyOf, verifySignature, type HashName } from './crypto.js';
import { certificateDer, sameBytes } from '../pki/der.js';
import { detail, reason, type Reason } from './reasons.js';

export interface IntegrityResult {
  reasons: Reason[];
  /** The signer certificate, from the CMS or from `extraCerts` (a TSA token may omit it). */
  signerCert?: pkijs.Certificate;
}

/**
 * @param content the signed content in chunks: the PDF byte ranges for a detached signature, or the
 *   eContent for an encapsulating one (time-stamp tokens, adbe.pkcs7.sha1).
 */
export function verifyCmsIntegrity(cms: ParsedCms, content: Uint8Array[], extraCerts: pkijs.Certificate[] = []): IntegrityResult {
  const reasons: Reason[] = [];
  if (cms.signerInfoCount !== 1) {
    reasons.push(
      reason(
        'CMS_MALFORMED',
        detail(`签名数据包含 ${cms.signerInfoCount} 个签名者信息，只允许一个。`, `It holds ${cms.signerInfoCount} SignerInfos; exactly one is allowed.`),
      ),
    );
  }
  const hash = cms.digestHash;
  if (!hash) {
    reasons.push(
      reason('CMS_MALFORMED', detail(`不支持的摘要算法 ${cms.digestAlgorithmOid}。`, `Unsupported digest algorithm ${cms.digestAlgorithmOid}.`)),
    );
    return { reasons };
  }
  const signerCert = cms.signerCert ?? extraCerts.find((c) => matchesSid(c, cms.sid));
  if (cms.signedAttrs && cms.signedAttrsDer) {
    const claimed = messageDigestOf(cms);
    if (!claimed) {
      reasons.push(reason('CMS_MALFORMED', detail('签名属性中缺少 message-digest。', 'The signed attributes lack a message-digest.')));
    } else if (!sameBytes(digest(hash, ...content), claimed)) {
      reasons.push(reason('DIGEST_MISMATCH'));
    }
  }
  if (!signerCert) {
    reasons.push(reason('SIGNER_CERT_MISMATCH', detail('签名数据中找不到签名者证书。', 'The signer certificate is not in the signature.')));
    return { reasons };
  }
  const signedBytes = cms.signedAttrsDer ?? Buffer.concat(content);
  let key;
  try {
    key = publicKeyOf(signerCert);
  } catch {
    reasons.push(reason('SIGNATURE_INVALID', detail('签名者证书的公钥无法读取。', "The signer certificate's public key cannot be read.")));
    return { reasons, signerCert };
  }
  if (!verifySignature(key, cms.signatureAlgorithm, signedBytes, cms.signatureValue, hash)) {
    reasons.push(reason('SIGNATURE_INVALID'));
  }
  const ess = checkEssSigningCertificate(cms, signerCert);
  if (ess) reasons.push(ess);
  return { reasons, signerCert };
}

/**
 * ESS signing-certificate(-v2) binds the signature to one certificate (CAdES requires it), so a
 * substituted certificate with the same key is detected.
 */
function checkEssSigningCertificate(cms: ParsedCms, signerCert: pkijs.Certificate): Reason | undefined {
  const v2 = attributeValues(cms.signedAttrs, OID.signingCertificateV2)[0];
  const v1 = attributeValues(cms.signedAttrs, OID.signingCertificate)[0];
  const value = v2 ?? v1;
  if (value === undefined) return undefined;
  const mismatch = reason(
    'SIGNER_CERT_MISMATCH',
    detail('签名属性中绑定的证书与签名者证书不一致。', 'The certificate named in the ESS signing-certificate attribute is not the signer certificate.'),
  );
  // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }
  let hash: HashName | undefined = v2 !== undefined ? 'sha256' : 'sha1';
  let certHash: Uint8Array | undefined;
  try {
    const top = readValue(value);
    const certs = top?.tag === TAG.SEQUENCE ? children(value, top)[0] : undefined;
    const first = certs?.tag === TAG.SEQUENCE ? children(value, certs)[0] : undefined;
    if (first?.tag !== TAG.SEQUENCE) return mismatch;
    for (const item of children(value, first)) {
      if (item.tag === TAG.SEQUENCE && certHash === undefined) {
        const algOid = children(value, item)[0];
        if (algOid?.tag === TAG.OID) hash = hashForOid(oidText(contentOf(value, algOid)));
      } else if (item.tag === TAG.OCTET_STRING) {
        certHash = contentOf(value, item);
      }
    }
  } catch {
    return mismatch;
  }
  if (!hash || !certHash) return mismatch;
  const der = certificateDer(signerCert);
  return sameBytes(digest(hash, der), certHash) ? undefined : mismatch;
}
