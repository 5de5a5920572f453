/**
 * `oneseal archive verify`: an ASiC-E package checked offline against the given trust anchors —
 * the container (mimetype first, stored), every entry against the manifest (altered, removed and
 * added entries are named), the CAdES signature over the manifest and its time-stamp, every
 * document (verify/), and the audit proof. Nothing is fetched: a package must carry its evidence.
 */
import type * as pkijs from 'pkijs';
import { CmsError, parseCms } from '../verify/cms.js';
import { verifyPdf, type Verdict } from '../verify/index.js';
import { verifyCmsIntegrity } from '../verify/integrity.js';
import { checkSignatureTimestamps } from '../verify/timestamp.js';
import { buildChain } from '../verify/trust.js';
import { readZip, ZipFormatError, type ZipReadEntry } from '../zip/read.js';
import { ASIC_MIMETYPE, MANIFEST_NAME, SIGNATURE_NAME, parseManifest, sha256b64 } from './asic.js';
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
  documents: { entry: string; verdict: Verdict }[];
  /** When the manifest signature's time-stamp says the package was sealed. */
  signedAt?: string;
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

async function signatureOver(manifest: Buffer, p7s: Buffer, anchors: pkijs.Certificate[], now: Date, problems: PackageProblem[]): Promise<string | undefined> {
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
  const ctx = { pool: cms.certificates, anchors, checks: new Map() };
  const proven = stamps.find((t) => standingOf(t, ctx, now) === 'proven');
  if (!proven) problems.push({ kind: 'indeterminate', entry: SIGNATURE_NAME, message: 'no signature time-stamp from a trusted, still valid time-stamping authority' });
  const at = proven?.genTime ?? now;
  if (buildChain(integrity.signerCert, cms.certificates, anchors, at).reasons.length > 0) {
    problems.push({ kind: 'indeterminate', entry: SIGNATURE_NAME, message: `the archive signer's certificate does not chain to a trusted root at ${at.toISOString()}` });
  }
  return proven?.genTime?.toISOString();
}

export async function verifyPackage(bytes: Buffer, anchorsDer: Uint8Array[], anchors: pkijs.Certificate[], now = new Date()): Promise<PackageVerification> {
  const problems: PackageProblem[] = [];
  const documents: PackageVerification['documents'] = [];
  let entries: ZipReadEntry[];
  try {
    entries = readZip(bytes);
  } catch (e) {
    if (!(e instanceof ZipFormatError)) throw e;
    return { verdict: 'invalid', problems: [{ kind: 'altered', message: `the container is damaged: ${e.message}` }], documents };
  }
  container(entries, problems);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const manifestEntry = byName.get(MANIFEST_NAME);
  const signatureEntry = byName.get(SIGNATURE_NAME);
  if (!manifestEntry) problems.push({ kind: 'removed', entry: MANIFEST_NAME, message: `${MANIFEST_NAME} is missing` });
  if (!signatureEntry) problems.push({ kind: 'removed', entry: SIGNATURE_NAME, message: `${SIGNATURE_NAME} is missing` });
  const manifest = manifestEntry ? parseManifest(manifestEntry.data) : undefined;
  if (manifestEntry && !manifest) problems.push({ kind: 'altered', entry: MANIFEST_NAME, message: 'the manifest is not an ASiCManifest with SHA-256 references' });
  let signedAt: string | undefined;
  if (manifest) {
    const listed = new Set(manifest.references.map((r) => r.uri));
    for (const ref of manifest.references) {
      const e = byName.get(ref.uri);
      if (!e) problems.push({ kind: 'removed', entry: ref.uri, message: `${ref.uri} is listed in the manifest but missing` });
      else if (sha256b64(e.data) !== ref.digest) problems.push({ kind: 'altered', entry: ref.uri, message: `${ref.uri} does not have the SHA-256 the manifest lists (altered)` });
    }
    for (const e of entries) {
      if (!CONTAINER_FILES.has(e.name) && !listed.has(e.name)) problems.push({ kind: 'added', entry: e.name, message: `${e.name} is not listed in the signed manifest (added)` });
    }
    if (signatureEntry && manifestEntry) signedAt = await signatureOver(manifestEntry.data, signatureEntry.data, anchors, now, problems);
    const intact = (name: string) => listed.has(name) && !problems.some((p) => p.entry === name);
    for (const ref of manifest.references.filter((r) => r.uri.startsWith('documents/') && intact(r.uri))) {
      const report = await verifyPdf(byName.get(ref.uri)!.data, { trustAnchors: anchorsDer, now });
      documents.push({ entry: ref.uri, verdict: report.verdict });
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
  return { verdict, problems, documents, ...(signedAt ? { signedAt } : {}) };
}
