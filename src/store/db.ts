/**
 * The database connection: knex over SQLite (a file, the default) or PostgreSQL, with the same migrations.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import type { Config, DatabaseConfig } from '../config.js';
import { OneSealError } from '../errors.js';
import { migrationSource } from './migrations/index.js';
import { PreparedSqliteClient } from './sqlite-client.js';

/** A connection or an open transaction: repositories take either, so callers decide the transaction. */
export type Db = Knex | Knex.Transaction;

export interface Store {
  db: Knex;
  /**
   * For reads outside any transaction that must not wait behind writes (a request's API key): on SQLite
   * a connection of their own. WAL lets it read while a writer commits, and while another process holds
   * the write lock — when statements on the writer's connection each wait out busy_timeout and anything
   * queued behind them would wait too. Each statement sees what was committed before it. On PostgreSQL
   * the same pool as `db`.
   */
  reads: Knex;
  close(): Promise<void>;
}

/** How long a SQLite writer waits for another process's write lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

type SqliteConnection = { exec(sql: string, cb: (err: Error | null) => void): void };

/** One connection, set up by `pragmas` when it opens. */
function sqliteConnection(filename: string, pragmas: string): Knex.Config {
  return {
    client: PreparedSqliteClient,
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
        conn.exec(pragmas, (err) => done(err, conn));
      },
    },
  };
}

/**
 * The pages of a database this connection creates (an existing one keeps its own): a one-page stamp's
 * output (53 KB, kept in the database) spans 4 pages instead of 14, and the pages a commit writes and a
 * checkpoint copies are a third as many. Each is a system call, which costs most in a virtual machine:
 * per stamp at c=8, 49 → 25 writes to the WAL, 18 → 4 to the database, 20 → 5 reads. It has to come
 * before journal_mode, which writes the first page.
 */
export const SQLITE_PAGE_SIZE = 16_384;

/**
 * The writer's statement journals (what undoes one statement of a larger transaction, such as a
 * group commit's multi-row INSERT) are kept in memory: past 64 KB SQLite puts one in a temporary file
 * otherwise, created, written page by page and unlinked within the commit (12 writes and 4 more calls
 * per stamp). Its other temporary data (sorts larger than its cache) then stay in memory too, which
 * on this connection only a migration building an index over a large table makes large: those run with
 * temporary files (openStore).
 */
const WRITER_TEMP_STORE = 'MEMORY';

export function knexConfig(database: DatabaseConfig): Knex.Config {
  if (database.client === 'sqlite3') {
    // One connection: SQLite has one writer anyway, and knex then queues transactions in-process.
    return {
      ...sqliteConnection(database.filename, `PRAGMA page_size = ${SQLITE_PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}; `
        + `PRAGMA foreign_keys = ON; PRAGMA temp_store = ${WRITER_TEMP_STORE};`),
      migrations: { migrationSource },
    };
  }
  return {
    client: 'pg',
    connection: database.url.reveal(),
    ...(database.schema ? { searchPath: [database.schema] } : {}),
    pool: { min: 0, max: 10 },
    migrations: { migrationSource, ...(database.schema ? { schemaName: database.schema } : {}) },
  };
}

/** Connects, brings the schema up to date and returns the handle. The caller closes it. */
export async function openStore(config: Pick<Config, 'database'>): Promise<Store> {
  const { database } = config;
  const where = database.client === 'sqlite3' ? database.filename : 'the PostgreSQL database';
  const unavailable = (e: unknown) =>
    new OneSealError('database-unavailable', 'unavailable', `cannot open ${where}: ${(e as Error).message}`, { cause: e });
  if (database.client === 'sqlite3') {
    try {
      mkdirSync(path.dirname(database.filename), { recursive: true });
    } catch (e) {
      throw unavailable(e);
    }
  }
  const db = knex(knexConfig(database));
  try {
    if (database.client === 'pg' && database.schema) {
      await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [database.schema]);
    }
    const sqlite = database.client === 'sqlite3';
    if (sqlite) await db.raw('PRAGMA temp_store = FILE');
    await db.migrate.latest();
    if (sqlite) await db.raw(`PRAGMA temp_store = ${WRITER_TEMP_STORE}`);
  } catch (e) {
    await db.destroy();
    throw unavailable(e);
  }
  if (database.client !== 'sqlite3') return { db, reads: db, close: () => db.destroy() };
  const reads = knex(sqliteConnection(database.filename, `PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}; PRAGMA query_only = ON;`));
  return { db, reads, close: () => Promise.all([reads.destroy(), db.destroy()]).then(() => undefined) };
}

/** Whether `db` is PostgreSQL (several instances may share it) rather than SQLite. */
export const isPostgres = (db: Knex): boolean => (db.client.config as Knex.Config).client === 'pg';

/** A unique index or primary key refused a row (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT UNIQUE/PRIMARY). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err.code === '23505' || (err.code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY/i.test(err.message ?? ''));
}
