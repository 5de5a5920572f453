/**
 * Where signed outputs are kept: up to ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB in the database, in the
 * transaction that records their stamp (stamp_outputs, as licences keep their PDFs), and larger ones
 * on disk as <dataDir>/stamps/<id>.pdf.
 *
 * In the database, the transaction's own fsync makes output and record durable together. A file
 * needs one fsync of its own and one of its directory; on this project's machines (virtual disks,
 * where each flush is a trip through the hypervisor) those cost more CPU than the extra bytes in
 * SQLite's or PostgreSQL's log, and with several instances on PostgreSQL every one of them can read
 * an output another made. Large outputs stay files: a 50 MB document would hold the write lock while
 * it is copied, and is written by its worker thread, off the event loop.
 *
 * Crash safety of files: the file is written to a temporary name, its data synced, renamed into
 * place and the directory fsynced BEFORE the database transaction that records the stamp commits. A
 * crash before the commit leaves at worst an orphan file that no row names (harmless; temporary ones
 * are swept, sweepStagedOutputs); a committed row always names a complete file. Writing after the
 * commit could leave a row whose file never came.
 *
 * In the server the worker thread that signed a document writes it and renames it into place
 * (writePlaced): synchronous calls on a thread that has nothing else to do, where the event loop
 * would send each of open, write, sync, close and rename through libuv's pool and wait for its turn
 * to hear back. The stamp's id is therefore chosen before its work starts.
 *
 * A file's data is synced with fdatasync, as SQLite and PostgreSQL sync theirs: it flushes the bytes
 * and whatever metadata reading them back needs (the size, the blocks), and skips only the times.
 * The name is made durable by the directory's fsync after the rename. Against fsync it served 7%
 * more POST /v1/stamps (two warm servers side by side, 4 and 5 of 6 pairs at c=8 and c=32).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync, type Dir } from 'node:fs';
import { mkdir, open, opendir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { OneSealError } from '../errors.js';
import type { Db } from '../store/db.js';
import { getStampOutput, type StampRecord } from '../store/stamps.js';

export const OUTPUT_DIR = 'stamps';
/** Outputs being written end so until renamed into place. */
const STAGED_SUFFIX = '.tmp';

/** The path stored in the record: relative to the data dir, so the data dir can move. */
export function outputPathFor(stampId: string): string {
  return path.posix.join(OUTPUT_DIR, `${stampId}.pdf`);
}

/** The output_path of a stamp whose output is kept in the database (stamp_outputs), not in a file. */
export const OUTPUT_IN_DATABASE = 'db:stamp_outputs';

/** Whether an output of `bytes` goes to the database with its record rather than to a file. */
export const keptInDatabase = (bytes: number, databaseMaxBytes: number): boolean => bytes <= databaseMaxBytes;

/**
 * Where a worker puts a stamp's output when it is too large for the database (keptInDatabase): it is
 * written, synced and renamed into `file`; smaller ones only go back to the event loop.
 */
export interface FilePlacement {
  file: string;
  databaseMaxBytes: number;
}

/** A temporary name in the target's directory, so the rename into place never crosses file systems. */
const stagedBeside = (target: string) => `${target}.${randomBytes(6).toString('hex')}${STAGED_SUFFIX}`;

/** Where a stamp's output is, absolute: the path of outputPathFor under the data dir. */
export function outputFileFor(dataDir: string, stampId: string): string {
  return path.join(dataDir, outputPathFor(stampId));
}

export interface Output {
  /** Relative to the data dir, as outputPathFor gives it. */
  path: string;
  pdf: Uint8Array;
  /**
   * Set when the worker that signed it already wrote, synced and renamed it into place (writePlaced):
   * the identity of the directory it went into. Only that directory is left to sync.
   */
  placedIn?: DirectoryId;
}

/**
 * A directory's identity, "dev:ino": the same path can name another directory after a rename or a
 * remount, and a handle kept open follows the directory, not the path.
 */
export type DirectoryId = string;

function directoryIdOf(stats: { dev: bigint; ino: bigint }): DirectoryId {
  return `${stats.dev}:${stats.ino}`;
}

/**
 * Writes an output under a temporary name beside `target`, syncs its data and renames it into place,
 * synchronously: for the worker thread that has the bytes. Making the name durable (the directory's
 * fsync) is the commit point's, one for all the stamps of a commit; it gets the identity of the
 * directory, read right after the rename, to know which one that is.
 */
export function writePlaced(target: string, bytes: Uint8Array): DirectoryId {
  const staged = stagedBeside(target);
  let fd: number;
  try {
    fd = createFileSync(staged);
  } catch (e) {
    throw notStored(e);
  }
  try {
    try {
      for (let at = 0; at < bytes.byteLength;) at += writeSync(fd, bytes, at);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(staged, target);
    return directoryIdOf(statSync(path.dirname(target), { bigint: true }));
  } catch (e) {
    rmSync(staged, { force: true });
    throw notStored(e);
  }
}

/** createFile's synchronous twin, for writePlaced. */
function createFileSync(file: string): number {
  try {
    return openSync(file, 'wx', 0o640);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(path.dirname(file), { recursive: true });
    return openSync(file, 'wx', 0o640);
  }
}

/**
 * An output that could not be stored: the disk's fault, not the request's, so 503 and what to check.
 * The path stays out of the message, which clients see.
 */
function notStored(e: unknown): OneSealError {
  if (e instanceof OneSealError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
  return new OneSealError('output-not-stored', 'unavailable',
    `The signed PDF could not be stored (${code}), so nothing was recorded. Check the free space and the permissions of ${OUTPUT_DIR}/ in the data directory, then retry.`,
    { cause: e, retryAfter: 30, extra: { component: 'storage' } });
}

/**
 * Removes outputs left half-way: written under a temporary name and never renamed into place, because
 * the process died mid-write or a worker was stopped mid-task (a request cancelled at its deadline).
 * Only those older than `olderThanMs`, so a write in flight — another instance's, on shared storage —
 * is left alone. Returns how many were removed.
 */
export async function sweepStagedOutputs(dataDir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  const dir = path.join(dataDir, OUTPUT_DIR);
  let entries: Dir;
  try {
    entries = await opendir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  let removed = 0;
  for await (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(STAGED_SUFFIX)) continue;
    const file = path.join(dir, entry.name);
    const modified = await stat(file).then((s) => s.mtimeMs, () => undefined);
    if (modified === undefined || now - modified < olderThanMs) continue;
    await rm(file, { force: true });
    removed++;
  }
  return removed;
}

/** Writes under a temporary name, syncs its data and renames into place; the directory entry is the caller's to sync. */
async function writeSynced(target: string, bytes: Uint8Array): Promise<void> {
  const tmp = stagedBeside(target);
  const fh = await createFile(tmp);
  try {
    try {
      await fh.writeFile(bytes);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Creates a new file, and its directory first if there is none: one mkdir on first use, not one per output. */
async function createFile(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'wx', 0o640);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(path.dirname(file), { recursive: true });
    return open(file, 'wx', 0o640);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Puts outputs in place that a worker has not placed already: each written under a temporary name,
 * its data synced and renamed, all concurrently.
 * Their directory entries become durable with syncOutputDirectories. If one fails, those already in
 * place are removed and the error is thrown.
 */
export async function placeOutputs(dataDir: string, outputs: readonly Output[]): Promise<void> {
  const targets = outputs.map((o) => path.join(dataDir, o.path));
  const written = await Promise.allSettled(outputs.map((o, i) => (o.placedIn ? undefined : writeSynced(targets[i]!, o.pdf))));
  const failed = written.find((w) => w.status === 'rejected');
  if (failed) {
    await Promise.all(outputs.filter((_, i) => written[i]!.status === 'fulfilled').map((o) => removeOutput(dataDir, o.path)));
    throw notStored(failed.reason);
  }
}

/** One fsync per directory the outputs were renamed into, however many they are. */
export async function syncOutputDirectories(dataDir: string, outputs: readonly Output[]): Promise<void> {
  await Promise.all([...new Set(outputs.map((o) => path.dirname(path.join(dataDir, o.path))))].map(syncDirectory)).catch((e: unknown) => {
    throw notStored(e);
  });
}

/**
 * The commit point's directory fsyncs, with the outputs' directory kept open between commits: an fsync
 * is then one trip through libuv's pool instead of three (open, fsync, close). The handle is used only
 * for a commit whose outputs were all placed by workers into the very directory it is (by identity);
 * for anything else — an output written here, a directory renamed or remounted under the same path —
 * the directories are opened by path as before, and the handle is replaced by one on the directory
 * the workers now write into.
 */
export class OutputDirectories {
  private held?: { id: DirectoryId; handle: FileHandle };
  /** Only one commit stage syncs at a time (GroupCommit), but close may come beside it. */
  private closed = false;

  constructor(private readonly dataDir: string) {}

  async sync(outputs: readonly Output[]): Promise<void> {
    const ids = new Set(outputs.map((o) => o.placedIn));
    const [id] = ids;
    if (ids.size !== 1 || id === undefined) return syncOutputDirectories(this.dataDir, outputs);
    try {
      if (this.held?.id !== id) await this.hold(path.dirname(path.join(this.dataDir, outputs[0]!.path)), id);
      else await this.held.handle.sync();
    } catch (e) {
      // A handle whose fsync failed is not trusted again; the next commit opens the directory anew.
      await this.release();
      throw notStored(e);
    }
  }

  /** Opens the directory by path and syncs it; keeps it open if it is the one the workers wrote into. */
  private async hold(dir: string, id: DirectoryId): Promise<void> {
    const handle = await open(dir, 'r');
    let kept = false;
    try {
      await handle.sync();
      if (this.closed || directoryIdOf(await handle.stat({ bigint: true })) !== id) return;
      await this.release();
      this.held = { id, handle };
      kept = true;
    } finally {
      if (!kept) await handle.close();
    }
  }

  private async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    await held?.handle.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.release();
  }
}

export async function writeOutput(dataDir: string, relPath: string, bytes: Uint8Array): Promise<void> {
  const outputs = [{ path: relPath, pdf: bytes }];
  await placeOutputs(dataDir, outputs);
  try {
    await syncOutputDirectories(dataDir, outputs);
  } catch (e) {
    await removeOutput(dataDir, relPath);
    throw e;
  }
}

export async function removeOutput(dataDir: string, relPath: string): Promise<void> {
  await removeOutputFile(path.join(dataDir, relPath));
}

/** Removes an output by its absolute path; one that is not there is no error. */
export async function removeOutputFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** Reads a stored output file and checks it is still the document that was signed. */
export async function readOutput(dataDir: string, relPath: string, sha256: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dataDir, relPath));
  } catch (e) {
    throw new OneSealError('stamp-output-missing', 'internal',
      `The stored output ${relPath} cannot be read on this instance (${(e as Error).message}); with several instances, ${OUTPUT_DIR}/ in the data directory must be storage they share.`,
      { cause: e });
  }
  return unaltered(bytes, sha256, `The stored output ${relPath}`);
}

/** A stamp's output wherever it is kept, checked as readOutput checks a file. */
export async function readStampOutput(store: { db: Db; dataDir: string }, stamp: Pick<StampRecord, 'id' | 'sha256Out' | 'outputPath'>): Promise<Buffer> {
  if (stamp.outputPath === null) throw new OneSealError('stamp-output-not-kept', 'not-found', `The output of stamp "${stamp.id}" was not kept.`);
  if (stamp.outputPath !== OUTPUT_IN_DATABASE) return readOutput(store.dataDir, stamp.outputPath, stamp.sha256Out);
  const bytes = await getStampOutput(store.db, stamp.id);
  if (!bytes) throw new OneSealError('stamp-output-missing', 'internal', `The output of stamp ${stamp.id} is missing from the database.`);
  return unaltered(bytes, stamp.sha256Out, `The stored output of stamp ${stamp.id}`);
}

function unaltered(bytes: Buffer, sha256: string, what: string): Buffer {
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
    throw new OneSealError('stamp-output-altered', 'internal', `${what} no longer has the SHA-256 recorded for it.`);
  }
  return bytes;
}
