/**
 * Real databases for store tests: a SQLite file in a temp dir, and PostgreSQL at 127.0.0.1:5432/test
 * in a schema of its own (dropped afterwards). PostgreSQL suites skip, saying why, only when it is unreachable.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { Secret, type DatabaseConfig } from '../../src/config.js';

export const PG_URL = process.env.ONESEAL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A short-lived admin connection (no schema) for probing and dropping test schemas. */
async function withAdmin<T>(fn: (db: knex.Knex) => Promise<T>): Promise<T> {
  const db = knex({ client: 'pg', connection: { connectionString: PG_URL, connectionTimeoutMillis: 3000 }, pool: { min: 0, max: 1 } });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

export async function probePostgres(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await withAdmin((db) => db.raw('select 1'));
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `PostgreSQL unreachable at ${PG_URL}: ${(e as Error).message}` };
  }
}

export interface TestDatabase {
  database: DatabaseConfig;
  cleanup(): Promise<void>;
}

export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-db-'));
  return {
    database: { client: 'sqlite3', filename: path.join(dir, 'oneseal.db') },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function pgTestDatabase(): TestDatabase {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return {
    database: { client: 'pg', url: new Secret(PG_URL), schema },
    async cleanup() {
      await withAdmin((db) => db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]));
    },
  };
}

/** Both backends, for `describe.each`-style loops; PostgreSQL carries its skip reason. */
export async function testBackends(): Promise<{ name: string; skip: string | undefined; make(): TestDatabase }[]> {
  const probe = await probePostgres();
  return [
    { name: 'sqlite', skip: undefined, make: sqliteTestDatabase },
    { name: 'postgres', skip: probe.ok ? undefined : probe.reason, make: pgTestDatabase },
  ];
}
