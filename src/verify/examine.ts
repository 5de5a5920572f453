/**
 * The integrity step of one signature: structure (byte range, gap), the CMS and its signature over
 * the covered bytes, its time-stamps, and whether its signer certificate can make a seal at all.
 */
import type * as pkijs from 'pkijs';
import type { PdfReader } from '../pdf/reader.js';
import { sameBytes } from '../pki/der.js';
import { CmsError, parseCms, type ParsedCms } from './cms.js';
import { digest } from './crypto.js';
import type { DssMaterial } from './dss.js';
import { verifyCmsIntegrity } from './integrity.js';
import { INTEGRITY, detail, reason, type Reason } from './reasons.js';
import { sealCertificateProblem } from './seal-certificate.js';
import type { FoundSignature } from './signatures.js';
import { checkStructure, type StructureResult } from './structure.js';
import { checkSignatureTimestamps, checkTimestampToken, type TimestampCheck } from './timestamp.js';

export interface Examined {
  found: FoundSignature;
  structure: StructureResult;
  cms?: ParsedCms;
  reasons: Reason[];
  /** The seal's certificate (signatures) or the TSA's (document time-stamps). */
  signerCert?: pkijs.Certificate;
  sigTimestamps: TimestampCheck[];
  /** For document time-stamps: the check of the token against the byte range. */
  docTimestamp?: TimestampCheck;
}

/** Intact: the bytes it covers are the bytes that were signed (trust aside). */
export const isIntact = (ex: Examined): boolean => ex.structure.signedRevision !== undefined && !ex.reasons.some((r) => INTEGRITY.has(r.code));

export function examineSignature(reader: PdfReader, found: FoundSignature, dss: DssMaterial): Examined {
  const structure = checkStructure(reader, found.dict);
  const ex: Examined = { found, structure, reasons: [...structure.reasons], sigTimestamps: [] };
  if (!structure.contents) return ex;
  try {
    ex.cms = parseCms(structure.contents);
  } catch (e) {
    if (!(e instanceof CmsError)) throw e;
    ex.reasons.push(reason('CMS_MALFORMED', detail(e.message, e.message)));
    return ex;
  }
  const layout = structure.layout;
  if (!layout) return ex;
  const covered = layout.ranges.map(([s, e]) => reader.bytes.subarray(s, e));
  if (found.kind === 'doc-timestamp') {
    ex.docTimestamp = checkTimestampToken(ex.cms, covered, dss.certs);
    ex.signerCert = ex.docTimestamp.tsaCert;
    ex.reasons.push(...ex.docTimestamp.reasons);
    return ex;
  }
  let content = covered;
  if (found.subFilter === 'adbe.pkcs7.sha1') {
    // The signed content is the SHA-1 of the byte range, encapsulated in the CMS.
    const e = ex.cms.eContent;
    if (!e || !sameBytes(e, digest('sha1', ...covered))) ex.reasons.push(reason('DIGEST_MISMATCH'));
    content = e ? [e] : covered;
  }
  const integrity = verifyCmsIntegrity(ex.cms, content, dss.certs);
  ex.reasons.push(...integrity.reasons);
  ex.signerCert = integrity.signerCert;
  if (ex.signerCert) {
    const problem = sealCertificateProblem(ex.signerCert);
    if (problem === 'service-certificate') ex.reasons.push(reason('SIGNER_NOT_SEAL'));
    else if (problem === 'not-for-signing') ex.reasons.push(reason('SIGNER_KEY_USAGE'));
  }
  ex.sigTimestamps = checkSignatureTimestamps(ex.cms, dss.certs);
  for (const t of ex.sigTimestamps) ex.reasons.push(...t.reasons);
  return ex;
}

/** A signature that could not be processed at all still gets a report line. */
export function unprocessable(found: FoundSignature, message: string): Examined {
  return {
    found,
    structure: { reasons: [] },
    reasons: [reason('CMS_MALFORMED', detail(`签名无法处理：${message}`, `The signature cannot be processed: ${message}`))],
    sigTimestamps: [],
  };
}
