/**
 * One signature (or document time-stamp) of a document, as pyHanko's embedded signature: after the
 * integrity step (examine.ts) come time (the earliest time a trusted time-stamp proves), trust at
 * that time (signer-trust.ts) and the changes after its revision under the policy
 * (modifications.ts); the result is one entry of the report.
 */
import type * as pkijs from 'pkijs';
import { PdfError } from '../errors.js';
import { PdfString, type PdfDict } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import { serialHex } from '../pki/der.js';
import { formatName, parseName } from '../pki/names.js';
import { creditCodeError } from '../standards/credit-code.js';
import { OID, attributeValues, signingTimeOf } from './cms.js';
import type { RevisionDiff } from './diff/revision-diff.js';
import type { DssMaterial } from './dss.js';
import type { Examined } from './examine.js';
import { judgeModifications } from './modifications.js';
import { readPermissions, type DiffPolicy } from './policy.js';
import { INTEGRITY, detail, reason, type Reason } from './reasons.js';
import { verdictOf, type SignatureReport, type SignerSummary } from './report.js';
import type { RevocationLookup } from './revocation.js';
import { isTimeStampingCertificate } from './seal-certificate.js';
import { trustReasons } from './signer-trust.js';
import type { TimestampCheck } from './timestamp.js';
import { buildChain, type SignatureChecks } from './trust.js';

/** What every signature of one document is judged against, computed once per document. */
export interface DocumentContext {
  reader: PdfReader;
  dss: DssMaterial;
  anchors: pkijs.Certificate[];
  extra: pkijs.Certificate[];
  now: Date;
  policy: DiffPolicy;
  /** Bytes after the last revision's %%EOF. */
  trailing: boolean;
  lookup?: RevocationLookup;
  diff: RevisionDiff;
  /** Signature field dictionaries by name (for FieldMDP /Lock). */
  fields: Map<string, PdfDict>;
  checks: SignatureChecks;
  /** Intact document time-stamps: they prove the time of everything before them. */
  docTimestamps: Examined[];
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

/** A text string of the signature dictionary, bounded (it is the signer's claim, shown to people). */
function textOf(v: unknown): string | undefined {
  return v instanceof PdfString ? v.decodeText().slice(0, 500) : undefined;
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

/** A time-stamp proves its time when it is intact and its TSA certificate, a time-stamping one, chains to an anchor at that time. */
function provesTime(t: TimestampCheck, doc: DocumentContext): boolean {
  return (
    t.reasons.length === 0 &&
    t.genTime !== undefined &&
    t.tsaCert !== undefined &&
    isTimeStampingCertificate(t.tsaCert) &&
    buildChain(t.tsaCert, [...doc.dss.certs, ...doc.extra, ...(t.token?.certificates ?? [])], doc.anchors, t.genTime, doc.checks).reasons.length === 0
  );
}

export async function reportSignature(ex: Examined, doc: DocumentContext): Promise<SignatureReport> {
  const { found, structure, cms } = ex;
  const reasons: Reason[] = [...ex.reasons];
  const revision = structure.signedRevision;

  // Time: the earliest time a trusted, intact time-stamp proves.
  const stamps = found.kind === 'doc-timestamp' ? (ex.docTimestamp ? [ex.docTimestamp] : []) : ex.sigTimestamps;
  const laterDocTs = doc.docTimestamps.filter((d) => d !== ex && revision !== undefined && d.structure.signedRevision! > revision).map((d) => d.docTimestamp!);
  const proven = [...stamps, ...laterDocTs].filter((t) => provesTime(t, doc)).map((t) => t.genTime!);
  const provenTime = proven.length > 0 ? new Date(Math.min(...proven.map((d) => d.getTime()))) : undefined;

  // Trust and revocation, only once the signature itself holds.
  if (ex.signerCert && !reasons.some((r) => INTEGRITY.has(r.code))) {
    const pool = [...(cms?.certificates ?? []), ...doc.dss.certs, ...doc.extra];
    reasons.push(...(await trustReasons(ex.signerCert, { pool, anchors: doc.anchors, provenTime, now: doc.now, cms, dss: doc.dss, lookup: doc.lookup, checks: doc.checks })));
  }

  // Changes after signing.
  let judged: ReturnType<typeof judgeModifications> | undefined;
  let docMdp: 1 | 2 | 3 | undefined;
  if (revision !== undefined) {
    const perms = readPermissions(doc.reader, found.dict, doc.fields.get(found.fieldName));
    docMdp = perms.docMdp;
    judged = judgeModifications(doc.reader, doc.diff, revision, perms, doc.policy);
    reasons.push(...judged.reasons);
  }
  if (doc.trailing && !reasons.some((r) => r.code === 'MODIFIED_AFTER_SIGNING')) {
    reasons.push(reason('MODIFIED_AFTER_SIGNING', detail('文件末尾附加了未被签名覆盖的数据。', 'Data was appended after the last revision.')));
  }

  const isSignature = found.kind === 'signature';
  return {
    fieldName: found.fieldName,
    kind: found.kind,
    subFilter: found.subFilter,
    verdict: verdictOf(reasons),
    reasons,
    signer: isSignature && ex.signerCert && !reasons.some((r) => r.code === 'SIGNER_NOT_SEAL') ? signerOf(ex.signerCert) : undefined,
    reason: isSignature ? textOf(found.dict.get('Reason')) : undefined,
    location: isSignature ? textOf(found.dict.get('Location')) : undefined,
    signingTime: (parsePdfDate(found.dict.get('M')) ?? (cms ? signingTimeOf(cms) : undefined))?.toISOString(),
    provenTime: provenTime?.toISOString(),
    timestamp: timestampSummary(stamps),
    level: isSignature && cms ? levelOf(ex, doc, laterDocTs.length > 0, revision) : null,
    revision,
    coversWholeDocument: structure.layout !== undefined && structure.layout.end === doc.reader.bytes.length,
    coverage: judged?.coverage,
    modifications: judged?.modifications ?? [],
    docMdp,
  };
}

function levelOf(ex: Examined, doc: DocumentContext, laterDocTimestamp: boolean, revision: number | undefined): SignatureReport['level'] {
  const t = ex.sigTimestamps.some((s) => s.reasons.length === 0) || laterDocTimestamp;
  const lt = doc.dss.present || attributeValues(ex.cms!.signedAttrs, OID.adbeRevocationInfoArchival).length > 0;
  const lta = doc.docTimestamps.some((d) => d.structure.signedRevision! > (revision ?? Infinity) && dssAt(doc.reader, d.structure.signedRevision!));
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
