/**
 * A signed output's bytes are on disk before anyone is told it is stored: both ways of writing one (a
 * worker's synchronous writePlaced, the event loop's writeOutput) sync the file's data before closing
 * it and renaming it into place, and writeOutput syncs the directory after the rename. The file system calls are watched, not
 * replaced: the files are really written.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutputDirectories, writeOutput, writePlaced } from '../src/stamping/outputs.js';
import { outputsFirst } from '../src/stamping/stamp-commits.js';

const calls = vi.hoisted(() => [] as string[]);
/** While set, a directory's sync waits for it: a commit stage held mid-fsync. */
const hold = vi.hoisted(() => ({ directorySync: undefined as Promise<void> | undefined }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const watched = {
    ...fs,
    openSync: (...args: Parameters<typeof fs.openSync>) => {
      const fd = fs.openSync(...args);
      calls.push(`open ${fd} ${path.basename(String(args[0]))}`);
      return fd;
    },
    fdatasyncSync: (fd: number) => {
      calls.push(`fdatasync ${fd}`);
      fs.fdatasyncSync(fd);
    },
    fsyncSync: (fd: number) => {
      calls.push(`fsync ${fd}`);
      fs.fsyncSync(fd);
    },
    closeSync: (fd: number) => {
      calls.push(`close ${fd}`);
      fs.closeSync(fd);
    },
    renameSync: (from: string, to: string) => {
      calls.push(`rename ${path.basename(from)} ${path.basename(to)}`);
      fs.renameSync(from, to);
    },
  };
  return { ...watched, default: watched };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  const watched = {
    ...fsp,
    open: async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      const name = path.basename(String(args[0]));
      calls.push(`open ${name}`);
      for (const method of ['datasync', 'sync', 'close'] as const) {
        const original = handle[method].bind(handle);
        handle[method] = async () => {
          calls.push(`${method} ${name}`);
          if (method === 'sync') await hold.directorySync;
          return original();
        };
      }
      return handle;
    },
    rename: async (from: string, to: string) => {
      calls.push(`rename ${path.basename(to)}`);
      return fsp.rename(from, to);
    },
  };
  return { ...watched, default: watched };
});

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-sync-'));
  dirs.push(dir);
  return dir;
};

beforeEach(() => {
  calls.length = 0;
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('signed outputs are synced before they are handed on', () => {
  it('writePlaced (a worker) syncs the data of the file it wrote before closing it and renaming it into place', () => {
    const dir = tempDir();
    const bytes = Buffer.from('%PDF-1.7 signed output');
    const target = path.join(dir, 'stamps', 'one.pdf');
    writePlaced(target, bytes);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(readdirSync(path.dirname(target))).toEqual(['one.pdf']);
    const [open, ...rest] = calls;
    const [, fd, staged] = open!.split(' ');
    expect(staged).toMatch(/^one\.pdf\.[0-9a-f]+\.tmp$/);
    expect(rest).toEqual([`fdatasync ${fd}`, `close ${fd}`, `rename ${staged} one.pdf`]);
  });

  it('writeOutput (the event loop) syncs the file before the rename and the directory after it', async () => {
    const dataDir = tempDir();
    const bytes = Buffer.from('%PDF-1.7 signed output');
    await writeOutput(dataDir, 'stamps/one.pdf', bytes);
    expect(readFileSync(path.join(dataDir, 'stamps', 'one.pdf')).equals(bytes)).toBe(true);
    expect(readdirSync(path.join(dataDir, 'stamps'))).toEqual(['one.pdf']);
    const staged = calls[0]!.split(' ')[1]!;
    expect(staged).toMatch(/^one\.pdf\.[0-9a-f]+\.tmp$/);
    expect(calls).toEqual([
      `open ${staged}`, `datasync ${staged}`, `close ${staged}`,
      'rename one.pdf',
      'open stamps', 'sync stamps', 'close stamps',
    ]);
  });
});

describe('the commit point keeps the outputs\' directory open between commits', () => {
  const placeIn = (dataDir: string, name: string) => {
    const relPath = `stamps/${name}.pdf`;
    return { path: relPath, pdf: Buffer.from(name), placedIn: writePlaced(path.join(dataDir, relPath), Buffer.from(name)) };
  };
  const dirCalls = () => calls.filter((c) => c.endsWith(' stamps'));

  it('syncs it through the handle it kept, opening nothing, while the workers write into that very directory', async () => {
    const dataDir = tempDir();
    const directories = new OutputDirectories(dataDir);
    try {
      await directories.sync([placeIn(dataDir, 'one')]);
      expect(dirCalls()).toEqual(['open stamps', 'sync stamps']);
      calls.length = 0;
      await directories.sync([placeIn(dataDir, 'two'), placeIn(dataDir, 'three')]);
      expect(dirCalls()).toEqual(['sync stamps']);
    } finally {
      await directories.close();
    }
    expect(dirCalls()).toEqual(['sync stamps', 'close stamps']);
  });

  it('opens the directory anew when another one stands under the same path (renamed aside, remounted)', async () => {
    const dataDir = tempDir();
    const directories = new OutputDirectories(dataDir);
    try {
      await directories.sync([placeIn(dataDir, 'one')]);
      renameSync(path.join(dataDir, 'stamps'), path.join(dataDir, 'stamps-aside'));
      mkdirSync(path.join(dataDir, 'stamps'));
      calls.length = 0;
      const moved = placeIn(dataDir, 'two');
      const { dev, ino } = statSync(path.join(dataDir, 'stamps'), { bigint: true });
      expect(moved.placedIn).toBe(`${dev}:${ino}`);
      await directories.sync([moved]);
      // The new directory is opened and synced, the old handle let go; the next commit uses the new one.
      expect(dirCalls()).toEqual(['open stamps', 'sync stamps', 'close stamps']);
      calls.length = 0;
      await directories.sync([placeIn(dataDir, 'three')]);
      expect(dirCalls()).toEqual(['sync stamps']);
    } finally {
      await directories.close();
    }
  });

  it('opens, syncs and closes by path for outputs no worker placed', async () => {
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, 'stamps'));
    const directories = new OutputDirectories(dataDir);
    await directories.sync([placeIn(dataDir, 'one')]);
    calls.length = 0;
    await directories.sync([{ path: 'stamps/here.pdf', pdf: Buffer.from('here') }]);
    expect(dirCalls()).toEqual(['open stamps', 'sync stamps', 'close stamps']);
    await directories.close();
  });
});

describe('a stamp whose output is kept in the database', () => {
  it('goes straight to its transaction: no file call, and no wait behind another stamp\'s directory fsync', async () => {
    const dataDir = tempDir();
    const recorded: string[] = [];
    const commits = outputsFirst(dataDir, { submit: async (item) => void recorded.push(item.outputs.length === 0 ? 'row' : 'file') });
    let release!: () => void;
    hold.directorySync = new Promise((r) => (release = r));
    try {
      const withFile = commits.submit({ outputs: [{ path: 'stamps/large.pdf', pdf: Buffer.from('large') }], record: async () => {} });
      await vi.waitFor(() => expect(calls).toContain('sync stamps'));
      calls.length = 0;
      await commits.submit({ outputs: [], record: async () => {} });
      expect(recorded).toEqual(['row']);
      expect(calls).toEqual([]);
      release();
      await withFile;
      expect(recorded).toEqual(['row', 'file']);
    } finally {
      hold.directorySync = undefined;
      release();
      await commits.close();
    }
  });
});
