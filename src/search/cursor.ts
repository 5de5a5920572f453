/**
 * Opaque cursors for keyset pagination: the position (the sort key of the last row served) under a MAC
 * that also covers what the page was a page of (the list, the caller and the filters). A cursor that was
 * altered, made up, or carried over to another query or another caller is refused with 400: positions
 * alone could not show anyone more than their own rows (the scope is applied to every page), but a
 * refusal keeps a crafted position from probing how another caller's rows are ordered.
 */
import { OneSealError } from '../errors.js';
import type { AccessSecrets } from '../access/secrets.js';

export type CursorKey = readonly (string | number)[];

const MAX_CURSOR_LENGTH = 1024;

function macInput(binding: string, key: CursorKey): string {
  return JSON.stringify([binding, key]);
}

export function encodeCursor(secrets: AccessSecrets, binding: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ k: key, m: secrets.mac('cursor', macInput(binding, key)) })).toString('base64url');
}

function invalidCursor(why: string): OneSealError {
  return new OneSealError('invalid-cursor', 'bad-request',
    `The cursor is not one this query gave out (${why}); start again without a cursor, with the same filters as the page it came from.`);
}

export function decodeCursor(secrets: AccessSecrets, binding: string, token: string): CursorKey {
  if (token.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalidCursor('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('not a cursor');
  }
  const { k, m } = (parsed ?? {}) as { k?: unknown; m?: unknown };
  if (!Array.isArray(k) || !k.every((v) => typeof v === 'string' || typeof v === 'number') || typeof m !== 'string') throw invalidCursor('not a cursor');
  if (!secrets.macMatches('cursor', macInput(binding, k), m)) throw invalidCursor('altered, or from another query or caller');
  return k as CursorKey;
}
