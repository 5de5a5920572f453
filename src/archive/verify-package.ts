/**
 * `oneseal archive verify`: an ASiC-E package checked offline against the given trust anchors —
 * the container (mimetype first, stored), every entry against the manifest (altered, removed and
 * added entries are named), the CAdES signature over the manifest and its time-stamp, the chain of
 * archive time-stamps a renewal added (each over an ASiCArchiveManifest naming everything before it),
 * every document (verify/), and the audit proof. Nothing is fetched: a package must carry its evidence.
 *
 * The time-stamps are judged newest first, as for a PDF's document time-stamps (verify/archive-time.ts):
 * the newest must rest on a TSA certificate valid now; each earlier one on a certificate still valid
 * at the time of the next proven one. A document that no longer verifies today is judged as of the
 * time the package was sealed, when that chain proves it existed then.
 */
import type * as pkijs from 'pkijs';
import { CmsError, parseCms } from '../verify/cms.js';
import { verifyPdf, type Verdict } from '../verify/index.js';
import { verifyCmsIntegrity } from '../verify/integrity.js';
import { checkSignatureTimestamps, checkTimestampToken, type TimestampCheck } from '../verify/timestamp.js';
import { buildChain } from '../verify/trust.js';
import { readZip, ZipFormatError, type ZipReadEntry } from '../zip/read.js';
import { ARCHIVE_MANIFEST_PATTERN, ARCHIVE_TIMESTAMP_PATTERN, ASIC_MIMETYPE, MANIFEST_NAME, SIGNATURE_NAME, parseManifest, sha256b64, type ManifestReference } from './asic.js';
import { auditProofProblem, type AuditProof } from './audit-proof.js';
import { standingOf } from '../verify/archive-time.js';

export type ProblemKind = 'altered' | 'removed' | 'added' | 'indeterminate';

export interface PackageProblem {
  kind: ProblemKind;
  /** The entry concerned, when there is one. */
  entry?: string;
  message: string;
}

export interface PackageVerification {
  /** valid: everything holds; invalid: something was altered, removed or added; indeterminate: intact, but trust could not be established. */
  verdict: 'valid' | 'invalid' | 'indeterminate';
  problems: PackageProblem[];
  /** `at`: when a document no longer verifies today, the sealing time it was judged at instead. */
  documents: { entry: string; verdict: Verdict; at?: string }[];
  /** When the manifest signature's time-stamp says the package was sealed (proven through the archive time-stamps). */
  signedAt?: string;
  /** The archive time-stamps a renewal added, oldest first. */
  archiveTimestamps: { entry: string; manifest: string; genTime?: string }[];
}

const CONTAINER_FILES = new Set(['mimetype', MANIFEST_NAME, SIGNATURE_NAME]);

function container(entries: ZipReadEntry[], problems: PackageProblem[]): void {
  const first = entries[0];
  if (first?.name !== 'mimetype') problems.push({ kind: 'altered', entry: 'mimetype', message: 'the first entry is not mimetype' });
  const mimetype = entries.find((e) => e.name === 'mimetype');
  if (!mimetype) problems.push({ kind: 'removed', entry: 'mimetype', message: 'mimetype is missing' });
  else if (mimetype.method !== 0 || mimetype.data.toString('ascii') !== ASIC_MIMETYPE) problems.push({ kind: 'altered', entry: 'mimetype', message: `mimetype must be stored uncompressed and say ${ASIC_MIMETYPE}` });
  for (const e of entries) if (!e.intact) problems.push({ kind: 'altered', entry: e.name, message: `${e.name} does not match its CRC-32 (altered)` });
}

interface SignatureOutcome {
  stamps: TimestampCheck[];
  signerCert: pkijs.Certificate;
  pool: pkijs.Certificate[];
}

/** The CAdES signature over the manifest and its time-stamps' integrity; trust is judged with the archive chain. */
function signatureOver(manifest: Buffer, p7s: Buffer, problems: PackageProblem[]): SignatureOutcome | undefined {
  let cms;
  try {
    cms = parseCms(p7s);
  } catch (e) {
    if (!(e instanceof CmsError)) throw e;
    problems.push({ kind: 'altered', entry: SIGNATURE_NAME, message: `the signature cannot be read: ${e.message}` });
    return undefined;
  }
  const integrity = verifyCmsIntegrity(cms, [manifest]);
  if (integrity.reasons.length > 0 || !integrity.signerCert) {
    problems.push({ kind: 'altered', entry: MANIFEST_NAME, message: `the manifest signature does not verify (${integrity.reasons.map((r) => r.code).join(', ')}): the manifest or the signature was altered` });
    return undefined;
  }
  const stamps = checkSignatureTimestamps(cms);
  if (stamps.some((t) => t.reasons.length > 0)) {
    problems.push({ kind: 'altered', entry: SIGNATURE_NAME, message: 'the signature time-stamp does not match the signature' });
    return undefined;
  }
  return { stamps, signerCert: integrity.signerCert, pool: cms.certificates };
}

/** Each entry a manifest names must be there with the SHA-256 it lists (an entry is named once, whichever manifest finds it). */
function checkReferences(manifest: string, references: readonly ManifestReference[], byName: Map<string, ZipReadEntry>, problems: PackageProblem[]): void {
  for (const ref of references) {
    if (problems.some((p) => p.entry === ref.uri && (p.kind === 'removed' || p.kind === 'altered'))) continue;
    const e = byName.get(ref.uri);
    if (!e) problems.push({ kind: 'removed', entry: ref.uri, message: `${ref.uri} is listed in ${manifest} but missing` });
    else if (sha256b64(e.data) !== ref.digest) problems.push({ kind: 'altered', entry: ref.uri, message: `${ref.uri} does not have the SHA-256 ${manifest} lists (altered)` });
  }
}

interface ArchiveStamp {
  manifest: string;
  entry: string;
  references: ManifestReference[];
  check: TimestampCheck;
}

/**
 * The archive manifests and their time-stamps, oldest first. Each must time-stamp its manifest and
 * name every entry that existed when it was made: all but mimetype and the later manifests and time-stamps.
 */
function archiveStamps(entries: ZipReadEntry[], byName: Map<string, ZipReadEntry>, problems: PackageProblem[]): ArchiveStamp[] {
  const found: ArchiveStamp[] = [];
  for (const e of entries.filter((x) => ARCHIVE_MANIFEST_PATTERN.test(x.name))) {
    const parsed = parseManifest(e.data);
    const tst = parsed?.sigReference && ARCHIVE_TIMESTAMP_PATTERN.test(parsed.sigReference) ? byName.get(parsed.sigReference) : undefined;
    if (!parsed || !parsed.sigReference || !ARCHIVE_TIMESTAMP_PATTERN.test(parsed.sigReference)) {
      problems.push({ kind: 'altered', entry: e.name, message: `${e.name} is not an archive manifest naming its META-INF/timestampNNN.tst` });
    } else if (!tst) {
      problems.push({ kind: 'removed', entry: parsed.sigReference, message: `${parsed.sigReference}, the time-stamp of ${e.name}, is missing` });
    } else {
      const check = checkTimestampToken(tst.data, [e.data]);
      if (check.reasons.length > 0) problems.push({ kind: 'altered', entry: e.name, message: `${parsed.sigReference} does not time-stamp ${e.name}: one of them was altered` });
      else found.push({ manifest: e.name, entry: tst.name, references: parsed.references, check });
    }
  }
  // Oldest first: by the number of the time-stamp, which a renewal increments.
  found.sort((a, b) => a.entry.localeCompare(b.entry));
  const later = (i: number) => new Set(found.slice(i).flatMap((s) => [s.manifest, s.entry]));
  found.forEach((stamp, i) => {
    const named = new Set(stamp.references.map((r) => r.uri));
    const after = later(i);
    for (const e of entries) {
      if (e.name !== 'mimetype' && !after.has(e.name) && !named.has(e.name)) problems.push({ kind: 'added', entry: e.name, message: `${e.name} is not named by ${stamp.manifest} (added after it was time-stamped)` });
    }
  });
  return found;
}

/** Newest first, each time-stamp judged at the time of the next proven one (the newest: now); the sealing time when all hold. */
function timeChain(signature: SignatureOutcome, stamps: ArchiveStamp[], anchors: pkijs.Certificate[], now: Date, problems: PackageProblem[]): Date | undefined {
  const ctx = { pool: signature.pool, anchors, checks: new Map() };
  let deadline = now;
  for (const stamp of [...stamps].reverse()) {
    const standing = standingOf(stamp.check, ctx, deadline);
    if (standing === 'proven') {
      deadline = stamp.check.genTime!;
      continue;
    }
    problems.push({ kind: 'indeterminate', entry: stamp.entry, message: standing === 'expired'
      ? `the TSA certificate of ${stamp.entry} expired before ${deadline.toISOString()} with no later archive time-stamp over it`
      : `${stamp.entry} is not from a trusted time-stamping authority` });
  }
  const proven = signature.stamps.find((t) => standingOf(t, ctx, deadline) === 'proven');
  if (!proven) {
    const expired = signature.stamps.some((t) => standingOf(t, ctx, deadline) === 'expired');
    problems.push({ kind: 'indeterminate', entry: SIGNATURE_NAME, message: expired
      ? `the TSA certificate of the signature time-stamp expired before ${deadline.toISOString()} with no archive time-stamp over it (renew the package: oneseal archive renew --packages DIR)`
      : 'no signature time-stamp from a trusted, still valid time-stamping authority' });
  }
  const at = proven?.genTime ?? now;
  if (buildChain(signature.signerCert, signature.pool, anchors, at).reasons.length > 0) {
    problems.push({ kind: 'indeterminate', entry: SIGNATURE_NAME, message: `the archive signer's certificate does not chain to a trusted root at ${at.toISOString()}` });
  }
  return proven?.genTime;
}

export async function verifyPackage(bytes: Buffer, anchorsDer: Uint8Array[], anchors: pkijs.Certificate[], now = new Date()): Promise<PackageVerification> {
  const problems: PackageProblem[] = [];
  const documents: PackageVerification['documents'] = [];
  let entries: ZipReadEntry[];
  try {
    entries = readZip(bytes);
  } catch (e) {
    if (!(e instanceof ZipFormatError)) throw e;
    return { verdict: 'invalid', problems: [{ kind: 'altered', message: `the container is damaged: ${e.message}` }], documents, archiveTimestamps: [] };
  }
  container(entries, problems);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const manifestEntry = byName.get(MANIFEST_NAME);
  const signatureEntry = byName.get(SIGNATURE_NAME);
  if (!manifestEntry) problems.push({ kind: 'removed', entry: MANIFEST_NAME, message: `${MANIFEST_NAME} is missing` });
  if (!signatureEntry) problems.push({ kind: 'removed', entry: SIGNATURE_NAME, message: `${SIGNATURE_NAME} is missing` });
  const manifest = manifestEntry ? parseManifest(manifestEntry.data) : undefined;
  if (manifestEntry && !manifest) problems.push({ kind: 'altered', entry: MANIFEST_NAME, message: 'the manifest is not an ASiCManifest with SHA-256 references' });
  let signedAt: Date | undefined;
  let archived: ArchiveStamp[] = [];
  if (manifest) {
    checkReferences(MANIFEST_NAME, manifest.references, byName, problems);
    archived = archiveStamps(entries, byName, problems);
    for (const a of archived) checkReferences(a.manifest, a.references, byName, problems);
    const listed = new Set([...manifest.references.map((r) => r.uri), ...archived.flatMap((a) => [a.manifest, a.entry])]);
    for (const e of entries) {
      const reported = problems.some((p) => p.entry === e.name);
      if (!CONTAINER_FILES.has(e.name) && !listed.has(e.name) && !reported) problems.push({ kind: 'added', entry: e.name, message: `${e.name} is not listed in the signed manifest (added)` });
    }
    const signature = signatureEntry && manifestEntry ? signatureOver(manifestEntry.data, signatureEntry.data, problems) : undefined;
    if (signature) signedAt = timeChain(signature, archived, anchors, now, problems);
    const intact = (name: string) => listed.has(name) && !problems.some((p) => p.entry === name);
    for (const ref of manifest.references.filter((r) => r.uri.startsWith('documents/') && intact(r.uri))) {
      const pdf = byName.get(ref.uri)!.data;
      let report = await verifyPdf(pdf, { trustAnchors: anchorsDer, now });
      let at: Date | undefined;
      // Its own time-stamps may have run out since; the package's chain proves it existed when the package was sealed.
      if (report.verdict !== 'valid' && signedAt) {
        const then = await verifyPdf(pdf, { trustAnchors: anchorsDer, now: signedAt });
        if (then.verdict === 'valid') [report, at] = [then, signedAt];
      }
      documents.push({ entry: ref.uri, verdict: report.verdict, ...(at ? { at: at.toISOString() } : {}) });
      if (report.verdict === 'indeterminate') problems.push({ kind: 'indeterminate', entry: ref.uri, message: `${ref.uri}: ${report.signatures.flatMap((s) => s.reasons.map((r) => r.code)).join(', ')}` });
      else if (report.verdict !== 'valid') problems.push({ kind: 'altered', entry: ref.uri, message: `${ref.uri} does not verify (${report.verdict})` });
    }
    const proof = byName.get('audit/proof.json');
    if (proof && intact('audit/proof.json')) {
      let problem: ReturnType<typeof auditProofProblem>;
      try {
        problem = auditProofProblem(JSON.parse(proof.data.toString('utf8')) as AuditProof, anchors);
      } catch {
        problem = 'the audit proof is not readable JSON';
      }
      if (typeof problem === 'string') problems.push({ kind: 'altered', entry: 'audit/proof.json', message: problem });
      else if (problem) problems.push({ kind: 'indeterminate', entry: 'audit/proof.json', message: problem.untrusted });
    }
  }
  const verdict = problems.some((p) => p.kind !== 'indeterminate') ? 'invalid' : problems.length > 0 ? 'indeterminate' : 'valid';
  const archiveTimestamps = archived.map((a) => ({ entry: a.entry, manifest: a.manifest, ...(a.check.genTime ? { genTime: a.check.genTime.toISOString() } : {}) }));
  return { verdict, problems, documents, archiveTimestamps, ...(signedAt ? { signedAt: signedAt.toISOString() } : {}) };
}
