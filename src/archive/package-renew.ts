/**
 * `oneseal archive renew --packages DIR`: exported ASiC-E packages live wherever the bureau files
 * them (OneSeal keeps no copy), so the command is pointed at a directory and renews every *.asice
 * under it whose newest time-stamp is due — its TSA certificate expires within the horizon, or it
 * relies on a digest the configuration marks as weakening. Renewing adds an archive manifest
 * (EN 319 162-1 ASiCArchiveManifest) naming every entry with its SHA-256 — the documents, the manifest and its
 * signature, earlier archive manifests and time-stamps — and a time-stamp over it. Every entry stays
 * byte for byte; only the ZIP around them is rewritten (to a temporary file, then renamed over).
 * A package is renewed only when it verifies: time-stamping an altered package would launder it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as pkijs from 'pkijs';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { signatureTimestampsOf, timestampImprint } from '../signing/cms.js';
import type { Timestamper } from '../signing/sign-pdf.js';
import { placeOutputs, syncOutputDirectories } from '../stamping/outputs.js';
import type { Db } from '../store/db.js';
import { readZip, type ZipReadEntry } from '../zip/read.js';
import { zip } from '../zip/write.js';
import {
  ARCHIVE_MANIFEST_NAME,
  ARCHIVE_TIMESTAMP_PATTERN,
  SIGNATURE_NAME,
  TIMESTAMP_MIMETYPE,
  manifestXml,
  parseManifest,
} from './asic.js';
import { describeToken } from './documents.js';
import { verifyPackage } from './verify-package.js';

export interface PackageRenewDeps {
  db: Db;
  timestamper: Timestamper;
  /** What a renewed package is checked against before it is time-stamped again. */
  anchorsDer: Uint8Array[];
  anchors: pkijs.Certificate[];
}

export interface DuePackage {
  file: string;
  timestampExpiresAt: string;
  reason: 'expiring' | 'weakening';
}

export interface PackageRun {
  due: DuePackage[];
  renewed: (DuePackage & { timestamp: string; sha256: string })[];
  failed: { file: string; error: string }[];
}

const MIME_TYPES: Record<string, string> = { '.pdf': 'application/pdf', '.json': 'application/json', '.xml': 'text/xml', '.p7s': 'application/pkcs7-signature', '.tst': TIMESTAMP_MIMETYPE };
const mimeTypeOf = (name: string): string => MIME_TYPES[path.posix.extname(name)] ?? 'application/octet-stream';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** The newest time-stamp: the current archive manifest's, else the manifest signature's own. */
export function newestPackageTimestamp(entries: readonly ZipReadEntry[]): Uint8Array | undefined {
  const current = entries.find((e) => e.name === ARCHIVE_MANIFEST_NAME);
  const tst = current ? parseManifest(current.data)?.sigReference : undefined;
  if (current) return tst ? entries.find((e) => e.name === tst)?.data : undefined;
  const signature = entries.find((e) => e.name === SIGNATURE_NAME);
  return signature ? signatureTimestampsOf(signature.data).at(-1) : undefined;
}

/** The package with one more archive manifest and its time-stamp; the current manifest keeps its bytes under a numbered name. */
export async function addArchiveTimestamp(bytes: Buffer, timestamper: Timestamper, now: Date): Promise<{ asice: Buffer; timestamp: string }> {
  const entries = readZip(bytes);
  const numbers = entries.map((e) => Number(ARCHIVE_TIMESTAMP_PATTERN.exec(e.name)?.[1] ?? 0));
  const timestamp = `META-INF/timestamp${String(Math.max(0, ...numbers) + 1).padStart(3, '0')}.tst`;
  const kept = entries.filter((e) => e.name !== 'mimetype').map((e) => {
    if (e.name !== ARCHIVE_MANIFEST_NAME) return { name: e.name, data: e.data };
    const own = ARCHIVE_TIMESTAMP_PATTERN.exec(parseManifest(e.data)?.sigReference ?? '')?.[1];
    if (!own) throw new OneSealError('archive-package-unreadable', 'unprocessable', `${ARCHIVE_MANIFEST_NAME} does not name its time-stamp`);
    return { name: `META-INF/ASiCArchiveManifest${own}.xml`, data: e.data };
  });
  const manifest = manifestXml(kept.map((e) => ({ ...e, mimeType: mimeTypeOf(e.name) })), { uri: timestamp, mimeType: TIMESTAMP_MIMETYPE });
  const digest = sha256(manifest);
  const token = await timestamper.stamp(digest);
  if (!Buffer.from(timestampImprint(token)).equals(digest)) throw new OneSealError('timestamp-mismatch', 'unavailable', 'The time-stamping service returned a token for different data; try again.');
  const mimetype = entries.find((e) => e.name === 'mimetype')!;
  const asice = zip([{ name: 'mimetype', data: mimetype.data }, ...kept, { name: timestamp, data: token }, { name: ARCHIVE_MANIFEST_NAME, data: manifest }], now);
  return { asice, timestamp };
}

async function packageFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true });
  return names.filter((n) => n.endsWith('.asice')).map((n) => path.join(dir, n)).sort();
}

/** A package found due, with the bytes it was judged on. */
export interface FoundPackage {
  bytes: Buffer;
  due: DuePackage;
}

/** Reads every *.asice under `dir` (recursively): those due, and those that could not be read. */
export async function scanPackages(dir: string, before: string, weakDigests: readonly string[]): Promise<{ found: FoundPackage[]; failed: PackageRun['failed'] }> {
  const found: FoundPackage[] = [];
  const failed: PackageRun['failed'] = [];
  for (const file of await packageFiles(dir)) {
    try {
      const bytes = await readFile(file);
      const token = newestPackageTimestamp(readZip(bytes));
      const standing = token ? describeToken(token) : undefined;
      if (!standing) throw new Error('the package carries no readable time-stamp');
      const timestampExpiresAt = standing.expiresAt.toISOString();
      const reason = timestampExpiresAt <= before ? 'expiring' : standing.digests.some((d) => weakDigests.includes(d)) ? 'weakening' : undefined;
      if (reason) found.push({ bytes, due: { file, timestampExpiresAt, reason } });
    } catch (e) {
      failed.push({ file, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { found, failed };
}

export interface PackageRenewOptions {
  now: Date;
  actor: string;
  /** After each package, renewed or failed. */
  onProgress?: (file: string) => void;
}

/** Renews the packages found due, adding to `run`'s renewed and failed. */
export async function renewFoundPackages(deps: PackageRenewDeps, found: readonly FoundPackage[], run: PackageRun, o: PackageRenewOptions): Promise<void> {
  for (const { bytes, due } of found) {
    try {
      run.renewed.push({ ...due, ...(await renewPackage(deps, o, bytes, due.file)) });
    } catch (e) {
      run.failed.push({ file: due.file, error: e instanceof Error ? e.message : String(e) });
    }
    o.onProgress?.(due.file);
  }
}

async function renewPackage(deps: PackageRenewDeps, o: PackageRenewOptions, bytes: Buffer, file: string): Promise<{ timestamp: string; sha256: string }> {
  const checked = await verifyPackage(bytes, deps.anchorsDer, deps.anchors, o.now);
  if (checked.verdict !== 'valid') {
    throw new Error(`it does not verify (${checked.verdict}: ${checked.problems.map((p) => p.message).join('; ')}), so it is not time-stamped again`);
  }
  const { asice, timestamp } = await addArchiveTimestamp(bytes, deps.timestamper, o.now);
  const after = sha256(asice).toString('hex');
  // Written, synced and renamed over the old package as stamp outputs are, so a crash leaves one whole package or the other.
  const replaced = [{ path: path.basename(file), pdf: asice }];
  await placeOutputs(path.dirname(file), replaced);
  await syncOutputDirectories(path.dirname(file), replaced);
  await deps.db.transaction((trx) => appendAudit(trx, {
    actor: o.actor,
    action: 'archive.renew-package',
    subject: `package:${path.basename(file)}`,
    details: { file, timestamp, sha256Before: sha256(bytes).toString('hex'), sha256After: after },
  }));
  return { timestamp, sha256: after };
}
