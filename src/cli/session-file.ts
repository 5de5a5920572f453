/**
 * Where the CLI keeps a person's session between commands: one JSON file per database under the
 * user's config directory (src/config.ts cliSessionFile), readable by its owner only. The token in it
 * is a bearer token like the API's, so the file is refused when others could read it.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OneSealError } from '../errors.js';

export interface StoredSession {
  name: string;
  token: string;
  expiresAt: string;
}

export function writeSessionFile(file: string, session: StoredSession): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify(session), { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
}

export function readSessionFile(file: string): StoredSession | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (mode & 0o077) {
    throw new OneSealError('session-file-exposed', 'forbidden',
      `${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); remove it and log in again (it is written with mode 600).`);
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredSession>;
  if (typeof parsed.token !== 'string' || typeof parsed.name !== 'string') return undefined;
  return { name: parsed.name, token: parsed.token, expiresAt: String(parsed.expiresAt) };
}

export function removeSessionFile(file: string): void {
  rmSync(file, { force: true });
}
