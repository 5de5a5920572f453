/**
 * The verification engine: PDF bytes in, a serialisable report out. Pure (no network, no database,
 * no shared mutable state between calls), so it runs as well in a worker thread: trust anchors and
 * OneSeal's own revocation records come from the caller.
 *
 * Each signature is examined for integrity (examine.ts), then judged as an embedded signature —
 * proven time, trust at that time, the changes after it under the policy (embedded-signature.ts) —
 * and the document verdict needs at least one seal signature (report.ts).
 */
import type * as pkijs from 'pkijs';
import { OneSealError, PdfError } from '../errors.js';
import { PdfReader } from '../pdf/reader.js';
import { archiveTimes, type TimestampContext } from './archive-time.js';
import type { SignatureChecks } from './trust.js';
import { certificateFromDer } from './certs.js';
import { RevisionDiff } from './diff/revision-diff.js';
import { readDss } from './dss.js';
import { reportSignature, type DocumentContext } from './embedded-signature.js';
import { examineSignature, isIntact, unprocessable, type Examined } from './examine.js';
import { STANDARD_POLICY, type DiffPolicy } from './policy.js';
import { detail, reason } from './reasons.js';
import { documentVerdict, isSeal, type Finding, type Report, type SignatureReport } from './report.js';
import type { RevocationLookup } from './revocation.js';
import { findSignatures, signatureFields } from './signatures.js';
import { overlappingGaps } from './structure.js';

export type { Report, SignatureReport, Verdict, Finding, SignerSummary, ModificationReport, Coverage } from './report.js';
export type { Reason, ReasonCode } from './reasons.js';
export type { RevocationLookup, RevocationStatus } from './revocation.js';
export type { DiffPolicy } from './policy.js';
export type { ModificationLevel, ChangeKind } from './diff/levels.js';
export { STANDARD_POLICY, STRICT_POLICY } from './policy.js';
export { parsePdfDate } from './embedded-signature.js';

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
  const checks: SignatureChecks = new Map();
  const docTimestamps = examined.filter((e) => e.docTimestamp && e.docTimestamp.reasons.length === 0 && e.structure.signedRevision !== undefined);
  const timestampContext: TimestampContext = { reader, pool: [...dss.certs, ...extra], anchors, now, checks };
  const doc: DocumentContext = {
    reader,
    dss,
    anchors,
    extra,
    now,
    policy,
    trailing,
    lookup: options.ownCa?.revocationLookup,
    diff: new RevisionDiff(reader, policy.revisionRules, (r) => signedAt.get(r) ?? new Set()),
    fields: new Map(signatureFields(reader).map((f) => [f.fieldName, f.dict])),
    checks,
    docTimestamps,
    archive: archiveTimes(docTimestamps, timestampContext),
    timestampContext,
  };
  const reports: SignatureReport[] = [];
  for (const ex of examined) {
    await yieldToEventLoop();
    reports.push(await reportSignature(ex, doc));
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
