/**
 * The verification engine: PDF bytes in, report out. Pure (no network, no database): trust anchors
 * and OneSeal's own revocation records come from the caller.
 */
import type * as pkijs from 'pkijs';
import { OneSealError, PdfError } from '../errors.js';
import { PdfString, type PdfDict } from '../pdf/objects.js';
import { PdfReader } from '../pdf/reader.js';
import { CmsError, OID, attributeValues, parseCms, signingTimeOf, type ParsedCms } from './cms.js';
import { digest } from './crypto.js';
import { sameBytes } from '../pki/der.js';
import { extractGlyphs } from '../pdf/text.js';
import { RevisionDiff, type Modification, type Rect } from './diff.js';
import { readDss, type DssMaterial } from './dss.js';
import { verifyCmsIntegrity } from './integrity.js';
import { judgeModifications, readPermissions } from './policy.js';
import { INTEGRITY, detail, reason, type Reason } from './reasons.js';
import { documentVerdict, verdictOf, type Finding, type Report, type SignatureReport, type SignerSummary } from './report.js';
import { evidenceFromCms, revocationStatus, type RevocationLookup } from './revocation.js';
import { checkStructure, overlappingGaps, type StructureResult } from './structure.js';
import { findSignatures, signatureFields, type FoundSignature } from './signatures.js';
import { checkSignatureTimestamps, checkTimestampToken, type TimestampCheck } from './timestamp.js';
import { serialHex } from '../pki/der.js';
import { certificateFromDer } from './certs.js';
import { formatName, parseName } from '../pki/names.js';
import { creditCodeError } from '../standards/credit-code.js';
import { buildChain, type SignatureChecks } from './trust.js';

export type { Report, SignatureReport, Verdict, Finding, SignerSummary } from './report.js';
export type { Reason, ReasonCode } from './reasons.js';
export type { RevocationLookup, RevocationStatus } from './revocation.js';

export interface VerifyOptions {
  /** DER certificates of the roots to trust (OneSeal's own roots, plus any `--trust` adds). */
  trustAnchors?: Uint8Array[];
  /** More DER certificates to build chains with (intermediates the document lacks). */
  extraCerts?: Uint8Array[];
  /** OneSeal's own CA records, consulted for revocation. */
  ownCa?: { revocationLookup: RevocationLookup };
  /** The time to validate at when no time-stamp proves an earlier one (default: now). */
  now?: Date;
}

interface Examined {
  found: FoundSignature;
  structure: StructureResult;
  cms?: ParsedCms;
  reasons: Reason[];
  signerCert?: pkijs.Certificate;
  sigTimestamps: TimestampCheck[];
  /** For document time-stamps: the check of the token against the byte range. */
  docTimestamp?: TimestampCheck;
}

function parseDerList(list: Uint8Array[] | undefined): pkijs.Certificate[] {
  const out: pkijs.Certificate[] = [];
  for (const der of list ?? []) {
    try {
      out.push(certificateFromDer(der));
    } catch (cause) {
      throw new OneSealError('invalid-trust-anchor', 'bad-request', 'A configured trust anchor or extra certificate is not a DER X.509 certificate; check the --trust files.', { cause });
    }
  }
  return out;
}

/** PDF date "D:YYYYMMDDHHmmSSOHH'mm'" → ISO 8601; undefined when unreadable. */
export function parsePdfDate(v: unknown): Date | undefined {
  if (!(v instanceof PdfString)) return undefined;
  const m = /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?/.exec(v.decodeText().trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', sign, oh = '00', om = '00'] = m;
  let t = Date.UTC(+y!, +mo - 1, +d, +h, +mi, +s);
  if (sign === '+' || sign === '-') t -= (sign === '+' ? 1 : -1) * (+oh * 60 + +om) * 60_000;
  return Number.isNaN(t) ? undefined : new Date(t);
}

function examine(reader: PdfReader, found: FoundSignature, dss: DssMaterial): Examined {
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
  ex.sigTimestamps = checkSignatureTimestamps(ex.cms, dss.certs);
  for (const t of ex.sigTimestamps) ex.reasons.push(...t.reasons);
  return ex;
}

function signerOf(cert: pkijs.Certificate): SignerSummary {
  const s = parseName(cert.subject);
  // ETSI EN 319 412-1 "NTRCN-<code>": the unified social credit code, as OneSeal's CA writes it.
  const code = /^NTRCN-(.{18})$/.exec(s.organizationIdentifier ?? '')?.[1];
  return {
    subject: formatName(cert.subject),
    commonName: s.commonName,
    organisation: s.organization,
    serial: serialHex(cert),
    creditCode: code !== undefined && creditCodeError(code) === undefined ? code : undefined,
  };
}

function trailingData(reader: PdfReader): boolean {
  const last = reader.revisions.at(-1)!;
  const tail = reader.bytes.subarray(last.eofOffset);
  return tail.some((c) => c !== 0x00 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d && c !== 0x20);
}

export async function verifyPdf(bytes: Uint8Array, options: VerifyOptions = {}): Promise<Report> {
  const reader = PdfReader.load(bytes);
  const anchors = parseDerList(options.trustAnchors);
  const extra = parseDerList(options.extraCerts);
  const now = options.now ?? new Date();
  const findings: Finding[] = [];
  const inventory = findSignatures(reader);
  const dss = readDss(reader);

  if (reader.repaired) {
    findings.push({
      code: 'DAMAGED_XREF',
      message: detail('文件的交叉引用表已损坏，已通过扫描重建；修订版本可能无法完整识别。', `The cross-reference data is damaged and was rebuilt by scanning; revisions may not all be recognised (${reader.warnings[0] ?? ''}).`),
    });
  }
  for (const r of inventory.removed) {
    findings.push({
      code: 'SIGNATURE_REMOVED',
      message: detail(`修订版本 ${r.revision} 中的签名“${r.fieldName}”在最新版本中已被移除。`, `Signature "${r.fieldName}" of revision ${r.revision} was removed in a later revision.`),
    });
  }
  for (const name of inventory.shared) {
    findings.push({
      code: 'SHARED_SIGNATURE',
      message: detail(`字段“${name}”与另一个字段引用同一个签名。`, `Field "${name}" refers to the same signature as another field.`),
    });
  }
  const trailing = trailingData(reader);
  if (trailing) {
    findings.push({
      code: 'TRAILING_DATA',
      message: detail('最后一个修订版本之后还有数据，这些数据不是规范的增量更新，也未被任何签名覆盖。', 'Data follows the last revision; it is not a proper incremental update and no signature covers it.'),
    });
  }
  if (inventory.signatures.length === 0) {
    findings.push({ code: 'NOT_SIGNED', message: reason('NOT_SIGNED').message });
  }

  const examined: Examined[] = [];
  for (const found of inventory.signatures) {
    await yieldToEventLoop();
    try {
      examined.push(examine(reader, found, dss));
    } catch (e) {
      if (e instanceof PdfError && e.code === 'pdf-limit') throw e;
      const msg = e instanceof Error ? e.message : String(e);
      examined.push({
        found,
        structure: { reasons: [] },
        reasons: [reason('CMS_MALFORMED', detail(`签名无法处理：${msg}`, `The signature cannot be processed: ${msg}`))],
        sigTimestamps: [],
      });
    }
  }
  for (const i of overlappingGaps(examined.map((e) => e.structure.layout))) {
    examined[i]!.reasons.push(reason('BYTE_RANGE', detail('与另一个签名的未签名间隙重叠。', "Its unsigned gap overlaps another signature's.")));
  }

  const diff = new RevisionDiff(reader);
  const lastRevision = reader.revisions.length - 1;
  const fields = new Map(signatureFields(reader).map((f) => [f.fieldName, f.dict]));
  const checks: SignatureChecks = new Map();
  const anchoredTime = (t: TimestampCheck): boolean =>
    t.reasons.length === 0 && t.genTime !== undefined && t.tsaCert !== undefined && buildChain(t.tsaCert, [...dss.certs, ...extra, ...(t.token?.certificates ?? [])], anchors, t.genTime, checks).reasons.length === 0;
  const docTimestamps = examined.filter((e) => e.docTimestamp && e.docTimestamp.reasons.length === 0 && e.structure.signedRevision !== undefined);

  const reports: SignatureReport[] = [];
  for (const ex of examined) {
    await yieldToEventLoop();
    const { found, structure, cms } = ex;
    const reasons = [...ex.reasons];
    const revision = structure.signedRevision;
    const claimed = parsePdfDate(found.dict.get('M')) ?? (cms ? signingTimeOf(cms) : undefined);

    // Time: the earliest time a trusted, intact time-stamp proves.
    const stamps = found.kind === 'doc-timestamp' ? (ex.docTimestamp ? [ex.docTimestamp] : []) : ex.sigTimestamps;
    const laterDocTs = docTimestamps.filter((d) => d !== ex && revision !== undefined && d.structure.signedRevision! > revision).map((d) => d.docTimestamp!);
    const proven = [...stamps, ...laterDocTs].filter(anchoredTime).map((t) => t.genTime!);
    const provenTime = proven.length > 0 ? new Date(Math.min(...proven.map((d) => d.getTime()))) : undefined;

    // Trust and revocation, only once the signature itself holds.
    if (ex.signerCert && !reasons.some((r) => INTEGRITY.has(r.code))) {
      const pool = [...(cms?.certificates ?? []), ...dss.certs, ...extra];
      reasons.push(...(await trustReasons(ex.signerCert, pool, anchors, provenTime, now, cms, dss, options.ownCa?.revocationLookup, checks)));
    }

    // Changes after signing.
    const modifications: Modification[] = [];
    let docMdp: 1 | 2 | 3 | undefined;
    if (revision !== undefined) {
      for (let r = revision + 1; r <= lastRevision; r++) {
        await yieldToEventLoop();
        modifications.push(...diff.changes(r));
      }
      const perms = readPermissions(reader, found.dict, fields.get(found.fieldName));
      docMdp = perms.docMdp;
      // Overlap checks read every page's annotations: only worth it when something changed.
      if (modifications.length > 0) {
        reasons.push(...judgeModifications(modifications, perms, diff.annotationRects(revision), (page) => textRects(reader, revision, page)));
      }
    }
    if (trailing && !reasons.some((r) => r.code === 'MODIFIED_AFTER_SIGNING')) {
      reasons.push(reason('MODIFIED_AFTER_SIGNING', detail('文件末尾附加了未被签名覆盖的数据。', 'Data was appended after the last revision.')));
    }

    const level =
      found.kind === 'signature' && cms
        ? levelOf({
            t: ex.sigTimestamps.some((t) => t.reasons.length === 0) || laterDocTs.length > 0,
            lt: dss.present || attributeValues(cms.signedAttrs, OID.adbeRevocationInfoArchival).length > 0,
            lta: docTimestamps.some((d) => d.structure.signedRevision! > (revision ?? Infinity) && dssAt(reader, d.structure.signedRevision!)),
          })
        : null;
    reports.push({
      fieldName: found.fieldName,
      kind: found.kind,
      subFilter: found.subFilter,
      verdict: verdictOf(reasons),
      reasons,
      signer: ex.signerCert ? signerOf(ex.signerCert) : undefined,
      signingTime: claimed?.toISOString(),
      provenTime: provenTime?.toISOString(),
      timestamp: timestampSummary(stamps),
      level,
      revision,
      coversWholeDocument: structure.layout !== undefined && structure.layout.end === reader.bytes.length,
      modifications: summarise(modifications),
      docMdp,
    });
  }
  return { verdict: documentVerdict(reports, findings), signatures: reports, findings, revisions: reader.revisions.length };
}

/**
 * Chain to an anchor at the proven time (else now), then the revocation status of each certificate
 * below the anchor. A revocation after the proven time does not matter; without a proven time no
 * revocation can be placed before or after signing, so it leaves the signature indeterminate.
 */
async function trustReasons(
  signerCert: pkijs.Certificate,
  pool: pkijs.Certificate[],
  anchors: pkijs.Certificate[],
  provenTime: Date | undefined,
  now: Date,
  cms: ParsedCms | undefined,
  dss: DssMaterial,
  lookup: RevocationLookup | undefined,
  checks: SignatureChecks,
): Promise<Reason[]> {
  const trust = buildChain(signerCert, pool, anchors, provenTime ?? now, checks);
  const reasons = [...trust.reasons];
  if (!trust.anchored || !cms) return reasons;
  const fromCms = evidenceFromCms(cms);
  const fromDss = dss.evidence();
  const evidence = { crls: [...fromDss.crls, ...fromCms.crls], ocsps: [...fromDss.ocsps, ...fromCms.ocsps] };
  for (let i = 0; i + 1 < trust.chain.length; i++) {
    const cert = trust.chain[i]!;
    const status = await revocationStatus(cert, trust.chain[i + 1]!, evidence, lookup);
    const who = parseName(cert.subject).commonName ?? serialHex(cert);
    if (status.status === 'revoked') {
      const at = status.revokedAt.toISOString();
      if (provenTime && provenTime.getTime() < status.revokedAt.getTime()) continue;
      if (provenTime) reasons.push(reason('CERT_REVOKED', detail(`证书“${who}”于 ${at} 被吊销。`, `Certificate "${who}" was revoked at ${at}.`)));
      else {
        reasons.push(
          reason('REVOCATION_UNKNOWN', detail(`证书“${who}”已于 ${at} 被吊销，且没有可信时间戳证明签名早于吊销。`, `Certificate "${who}" was revoked at ${at} and no trusted time-stamp proves the signature is older.`)),
        );
      }
    } else if (status.status === 'unknown' && i === 0) {
      // Intermediates often come without revocation data; only the signer's own status is required.
      reasons.push(reason('REVOCATION_UNKNOWN'));
    }
  }
  return reasons;
}

function levelOf(has: { t: boolean; lt: boolean; lta: boolean }): SignatureReport['level'] {
  if (!has.t) return 'B-B';
  if (!has.lt) return 'B-T';
  return has.lta ? 'B-LTA' : 'B-LT';
}

/** The first intact time-stamp (else the first one) as the report shows it. */
function timestampSummary(stamps: TimestampCheck[]): SignatureReport['timestamp'] {
  const shown = stamps.find((t) => t.reasons.length === 0 && t.genTime) ?? stamps.find((t) => t.genTime);
  if (!shown) return undefined;
  return { genTime: shown.genTime!.toISOString(), tsa: shown.tsaCert ? formatName(shown.tsaCert.subject) : undefined, intact: shown.reasons.length === 0 };
}

const textCache = new WeakMap<PdfReader, Map<string, Rect[]>>();

/** Boxes of the visible text on a page of a revision; none when the text cannot be read (limits, damage). */
function textRects(reader: PdfReader, revision: number, page: number): Rect[] {
  let cache = textCache.get(reader);
  if (!cache) textCache.set(reader, (cache = new Map()));
  const key = `${revision}|${page}`;
  let rects = cache.get(key);
  if (!rects) {
    try {
      rects = extractGlyphs(reader.atRevision(revision), page)
        .filter((g) => g.text.trim() !== '' && g.width > 0 && g.height > 0)
        .map((g): Rect => [g.x, g.y, g.x + g.width, g.y + g.height]);
    } catch (e) {
      if (!(e instanceof PdfError)) throw e;
      rects = [];
    }
    cache.set(key, rects);
  }
  return rects;
}

/** Verification is CPU-bound for seconds on large documents; a server must keep answering meanwhile. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One line per distinct change, with a count: an LTV update touches dozens of objects the same way. */
function summarise(mods: Modification[]): SignatureReport['modifications'] {
  const out = new Map<string, { revision: number; kind: Modification['kind']; details: string; n: number }>();
  for (const m of mods) {
    const key = `${m.revision}|${m.kind}|${m.details}`;
    const e = out.get(key);
    if (e) e.n++;
    else out.set(key, { revision: m.revision, kind: m.kind, details: m.details, n: 1 });
  }
  return [...out.values()].map(({ revision, kind, details, n }) => ({ revision, kind, details: n > 1 ? `${details} (${n} objects)` : details }));
}

function dssAt(reader: PdfReader, revision: number): boolean {
  try {
    return (reader.atRevision(revision).catalog() as PdfDict).has('DSS');
  } catch {
    return false;
  }
}
