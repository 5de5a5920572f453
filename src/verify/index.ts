/**
 * The verification engine: PDF bytes in, a serialisable report out. Pure (no network, no database,
 * no shared mutable state between calls), so it runs as well in a worker thread: trust anchors and
 * OneSeal's own revocation records come from the caller.
 *
 * Each signature goes through three steps — integrity (examine.ts), modifications after it under
 * the policy (modifications.ts), trust at the proven time (signer-trust.ts) — and the document
 * verdict needs at least one seal signature (report.ts).
 */
import type * as pkijs from 'pkijs';
import { OneSealError, PdfError } from '../errors.js';
import { PdfString, type PdfDict } from '../pdf/objects.js';
import { PdfReader } from '../pdf/reader.js';
import { serialHex } from '../pki/der.js';
import { formatName, parseName } from '../pki/names.js';
import { creditCodeError } from '../standards/credit-code.js';
import { certificateFromDer } from './certs.js';
import { OID, attributeValues, signingTimeOf } from './cms.js';
import { RevisionDiff } from './diff/revision-diff.js';
import { readDss, type DssMaterial } from './dss.js';
import { examineSignature, isIntact, unprocessable, type Examined } from './examine.js';
import { judgeModifications } from './modifications.js';
import { STANDARD_POLICY, readPermissions, type DiffPolicy } from './policy.js';
import { INTEGRITY, detail, reason, type Reason } from './reasons.js';
import { documentVerdict, isSeal, verdictOf, type Finding, type Report, type SignatureReport, type SignerSummary } from './report.js';
import type { RevocationLookup } from './revocation.js';
import { isTimeStampingCertificate } from './seal-certificate.js';
import { findSignatures, signatureFields } from './signatures.js';
import { trustReasons } from './signer-trust.js';
import { overlappingGaps } from './structure.js';
import type { TimestampCheck } from './timestamp.js';
import { buildChain, type SignatureChecks } from './trust.js';

export type { Report, SignatureReport, Verdict, Finding, SignerSummary, ModificationReport, Coverage } from './report.js';
export type { Reason, ReasonCode } from './reasons.js';
export type { RevocationLookup, RevocationStatus } from './revocation.js';
export type { DiffPolicy } from './policy.js';
export type { ModificationLevel, ChangeKind } from './diff/levels.js';
export { STANDARD_POLICY, STRICT_POLICY } from './policy.js';

export interface VerifyOptions {
  /** DER certificates of the roots to trust (OneSeal's own roots, plus any `--trust` adds). */
  trustAnchors?: Uint8Array[];
  /** More DER certificates to build chains with (intermediates the document lacks). */
  extraCerts?: Uint8Array[];
  /** OneSeal's own CA records, consulted for revocation. */
  ownCa?: { revocationLookup: RevocationLookup };
  /** The time to validate at when no time-stamp proves an earlier one (default: now). */
  now?: Date;
  /** How later changes are judged (default STANDARD_POLICY). Code, not data: a worker imports its own. */
  policy?: DiffPolicy;
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

function documentFindings(reader: PdfReader, inventory: ReturnType<typeof findSignatures>, trailing: boolean): Finding[] {
  const findings: Finding[] = [];
  if (reader.repaired) {
    findings.push({
      code: 'DAMAGED_XREF',
      message: detail('文件的交叉引用表已损坏，已通过扫描重建；修订版本可能无法完整识别。', `The cross-reference data is damaged and was rebuilt by scanning; revisions may not all be recognised (${reader.warnings[0] ?? ''}).`),
    });
  }
  for (const r of inventory.removed) {
    findings.push({
      code: 'SIGNATURE_REMOVED',
      message: detail(`修订版本 ${r.revision + 1} 中的签名“${r.fieldName}”在最新版本中已被移除。`, `Signature "${r.fieldName}" of revision ${r.revision + 1} was removed in a later revision.`),
    });
  }
  for (const name of inventory.shared) {
    findings.push({ code: 'SHARED_SIGNATURE', message: detail(`字段“${name}”与另一个字段引用同一个签名。`, `Field "${name}" refers to the same signature as another field.`) });
  }
  if (trailing) {
    findings.push({
      code: 'TRAILING_DATA',
      message: detail('最后一个修订版本之后还有数据，这些数据不是规范的增量更新，也未被任何签名覆盖。', 'Data follows the last revision; it is not a proper incremental update and no signature covers it.'),
    });
  }
  if (inventory.signatures.length === 0) findings.push({ code: 'NOT_SIGNED', message: reason('NOT_SIGNED').message });
  return findings;
}

/** Verification is CPU-bound for seconds on large documents; a server must keep answering meanwhile. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function verifyPdf(bytes: Uint8Array, options: VerifyOptions = {}): Promise<Report> {
  const reader = PdfReader.load(bytes);
  const anchors = parseDerList(options.trustAnchors);
  const extra = parseDerList(options.extraCerts);
  const now = options.now ?? new Date();
  const policy = options.policy ?? STANDARD_POLICY;
  const inventory = findSignatures(reader);
  const dss = readDss(reader);
  const trailing = trailingData(reader);
  const findings = documentFindings(reader, inventory, trailing);

  const examined: Examined[] = [];
  for (const found of inventory.signatures) {
    await yieldToEventLoop();
    try {
      examined.push(examineSignature(reader, found, dss));
    } catch (e) {
      if (!(e instanceof PdfError) || e.code === 'pdf-limit') throw e;
      examined.push(unprocessable(found, e.message));
    }
  }
  for (const i of overlappingGaps(examined.map((e) => e.structure.layout))) {
    examined[i]!.reasons.push(reason('BYTE_RANGE', detail('与另一个签名的未签名间隙重叠。', "Its unsigned gap overlaps another signature's.")));
  }

  // Which fields an intact signature signs at the end of each revision: a signature addition there is vouched for.
  const signedAt = new Map<number, Set<string>>();
  for (const ex of examined.filter(isIntact)) {
    const r = ex.structure.signedRevision!;
    signedAt.set(r, (signedAt.get(r) ?? new Set()).add(ex.found.fieldName));
  }
  const diff = new RevisionDiff(reader, policy.revisionRules, (r) => signedAt.get(r) ?? new Set());
  const fields = new Map(signatureFields(reader).map((f) => [f.fieldName, f.dict]));
  const checks: SignatureChecks = new Map();
  const docTimestamps = examined.filter((e) => e.docTimestamp && e.docTimestamp.reasons.length === 0 && e.structure.signedRevision !== undefined);
  const provesTime = (t: TimestampCheck): boolean =>
    t.reasons.length === 0 &&
    t.genTime !== undefined &&
    t.tsaCert !== undefined &&
    isTimeStampingCertificate(t.tsaCert) &&
    buildChain(t.tsaCert, [...dss.certs, ...extra, ...(t.token?.certificates ?? [])], anchors, t.genTime, checks).reasons.length === 0;

  const reports: SignatureReport[] = [];
  for (const ex of examined) {
    await yieldToEventLoop();
    const { found, structure, cms } = ex;
    const reasons: Reason[] = [...ex.reasons];
    const revision = structure.signedRevision;

    // Time: the earliest time a trusted, intact time-stamp proves.
    const stamps = found.kind === 'doc-timestamp' ? (ex.docTimestamp ? [ex.docTimestamp] : []) : ex.sigTimestamps;
    const laterDocTs = docTimestamps.filter((d) => d !== ex && revision !== undefined && d.structure.signedRevision! > revision).map((d) => d.docTimestamp!);
    const proven = [...stamps, ...laterDocTs].filter(provesTime).map((t) => t.genTime!);
    const provenTime = proven.length > 0 ? new Date(Math.min(...proven.map((d) => d.getTime()))) : undefined;

    // Trust and revocation, only once the signature itself holds.
    if (ex.signerCert && !reasons.some((r) => INTEGRITY.has(r.code))) {
      reasons.push(
        ...(await trustReasons(ex.signerCert, {
          pool: [...(cms?.certificates ?? []), ...dss.certs, ...extra],
          anchors,
          provenTime,
          now,
          cms,
          dss,
          lookup: options.ownCa?.revocationLookup,
          checks,
        })),
      );
    }

    // Changes after signing.
    let judged: ReturnType<typeof judgeModifications> | undefined;
    let docMdp: 1 | 2 | 3 | undefined;
    if (revision !== undefined) {
      await yieldToEventLoop();
      const perms = readPermissions(reader, found.dict, fields.get(found.fieldName));
      docMdp = perms.docMdp;
      judged = judgeModifications(reader, diff, revision, perms, policy);
      reasons.push(...judged.reasons);
    }
    if (trailing && !reasons.some((r) => r.code === 'MODIFIED_AFTER_SIGNING')) {
      reasons.push(reason('MODIFIED_AFTER_SIGNING', detail('文件末尾附加了未被签名覆盖的数据。', 'Data was appended after the last revision.')));
    }

    const isSignature = found.kind === 'signature';
    reports.push({
      fieldName: found.fieldName,
      kind: found.kind,
      subFilter: found.subFilter,
      verdict: verdictOf(reasons),
      reasons,
      signer: isSignature && ex.signerCert && !reasons.some((r) => r.code === 'SIGNER_NOT_SEAL') ? signerOf(ex.signerCert) : undefined,
      signingTime: (parsePdfDate(found.dict.get('M')) ?? (cms ? signingTimeOf(cms) : undefined))?.toISOString(),
      provenTime: provenTime?.toISOString(),
      timestamp: timestampSummary(stamps),
      level: isSignature && cms ? levelOf(ex, reader, dss, laterDocTs.length > 0, docTimestamps, revision) : null,
      revision,
      coversWholeDocument: structure.layout !== undefined && structure.layout.end === reader.bytes.length,
      coverage: judged?.coverage,
      modifications: judged?.modifications ?? [],
      docMdp,
    });
  }
  if (reports.length > 0 && !reports.some(isSeal)) {
    findings.push({
      code: 'NO_SEAL_SIGNATURE',
      message: detail(
        '文档没有任何签章，只有时间戳：时间戳只证明文件在某个时间已经存在，不证明任何人批准了它。',
        'The document carries no seal signature, only time-stamps: a time-stamp proves that the bytes existed at a time, never that anyone approved them.',
      ),
    });
  }
  return { verdict: documentVerdict(reports, findings), signatures: reports, findings, revisions: reader.revisions.length, seals: reports.filter(isSeal).length };
}

function levelOf(ex: Examined, reader: PdfReader, dss: DssMaterial, laterDocTimestamp: boolean, docTimestamps: Examined[], revision: number | undefined): SignatureReport['level'] {
  const t = ex.sigTimestamps.some((s) => s.reasons.length === 0) || laterDocTimestamp;
  const lt = dss.present || attributeValues(ex.cms!.signedAttrs, OID.adbeRevocationInfoArchival).length > 0;
  const lta = docTimestamps.some((d) => d.structure.signedRevision! > (revision ?? Infinity) && dssAt(reader, d.structure.signedRevision!));
  if (!t) return 'B-B';
  if (!lt) return 'B-T';
  return lta ? 'B-LTA' : 'B-LT';
}

/** The first intact time-stamp (else the first one) as the report shows it. */
function timestampSummary(stamps: TimestampCheck[]): SignatureReport['timestamp'] {
  const shown = stamps.find((t) => t.reasons.length === 0 && t.genTime) ?? stamps.find((t) => t.genTime);
  if (!shown) return undefined;
  return { genTime: shown.genTime!.toISOString(), tsa: shown.tsaCert ? formatName(shown.tsaCert.subject) : undefined, intact: shown.reasons.length === 0 };
}

function dssAt(reader: PdfReader, revision: number): boolean {
  try {
    return (reader.atRevision(revision).catalog() as PdfDict).has('DSS');
  } catch (e) {
    if (e instanceof PdfError && e.code === 'invalid-pdf') return false;
    throw e;
  }
}
