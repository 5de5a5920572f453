/**
 * knex's SQLite client with each connection's statements prepared once and kept. node-sqlite3 runs a
 * query in three steps: prepare (a trip through libuv's pool), run (a second trip) and finalize. Each
 * trip ends on the event loop, which under load waits its turn for both — BEGIN and COMMIT included,
 * so one group commit of stamps was ten trips in a row. A statement kept prepared is one trip.
 *
 * Reusing one is what node-sqlite3 is built for: each run resets the statement and binds its
 * parameters anew, and runs of one statement queue behind each other. Statements are run to
 * completion, so none keeps a transaction open between runs. The statements kept are bounded per
 * connection (a multi-row INSERT's SQL changes with its row count): the least recently used one is
 * finalized past the bound, and all of them before the connection closes, which SQLite refuses while
 * any is left.
 */
import { createRequire } from 'node:module';
import type knex from 'knex';

type Callback = (this: unknown, err: Error | null, result?: unknown) => void;

interface Statement {
  all(params: unknown[], cb: Callback): void;
  run(params: unknown[], cb: Callback): void;
  finalize(cb: () => void): void;
}

interface Connection {
  prepare(sql: string, cb: (err: Error | null) => void): Statement;
}

interface Query {
  sql?: string;
  bindings?: unknown[];
  method?: string;
  returning?: unknown;
  response?: unknown;
  context?: unknown;
}

/** Enough for every distinct statement a server runs; multi-row inserts beyond it are re-prepared. */
const MAX_STATEMENTS = 256;

/** What knex runs with `run` rather than `all` (insert and update only without RETURNING). */
const RUN_METHODS = new Set(['insert', 'update', 'counter', 'del']);

const require = createRequire(import.meta.url);
const KnexSqliteClient = require('knex/lib/dialects/sqlite3/index.js') as typeof knex.Client;

interface KnexTransaction {
  query(conn: unknown, sql: string): Promise<unknown>;
  begin(conn: unknown): Promise<unknown>;
  _onAcquire(container: unknown, conn: unknown): Promise<unknown>;
}
const KnexSqliteTransaction = require('knex/lib/dialects/sqlite3/execution/sqlite-transaction.js') as new (...args: unknown[]) => KnexTransaction;

/**
 * `db.transaction(work, WRITES_SENT_TOGETHER)`: a transaction whose writes are sent without waiting for
 * each other. On SQLite it begins IMMEDIATE, holding the database's write lock from its first
 * statement (waiting for another process's up to busy_timeout there, once, instead of at each write),
 * and its foreign keys are checked at COMMIT (`PRAGMA defer_foreign_keys`): node-sqlite3 may run
 * statements sent together in any order, so a row may arrive before the row it references. Elsewhere
 * it changes nothing (PostgreSQL runs a connection's statements in the order sent). Only for
 * transactions that write: a long read under it would keep other processes from writing.
 */
export const WRITES_SENT_TOGETHER = { writesSentTogether: true } as knex.Knex.TransactionConfig;

/** What knex passes on of the config given to `db.transaction`, as far as it matters here. */
type TransactionOptions = { writesSentTogether?: boolean } | undefined;

interface ExecConnection {
  exec(sql: string, cb: (err: Error | null) => void): void;
  /** knex's mark for a connection its pool must not hand out again. */
  __knex__disposed?: Error;
}

/**
 * node-sqlite3's `exec`: the statements given run in one trip through libuv's pool, each prepared anew.
 * That suits a pragma, which SQLite applies when it is prepared (a kept statement would apply it once).
 */
const exec = (conn: ExecConnection, sql: string) => new Promise<void>((resolve, reject) => conn.exec(sql, (err) => (err ? reject(err) : resolve())));

class SqliteTransaction extends KnexSqliteTransaction {
  private readonly writesSentTogether: boolean;

  // knex begins the transaction once a connection is acquired, always after this constructor returned.
  constructor(client: unknown, container: unknown, config: TransactionOptions, outerTx: unknown) {
    super(client, container, config, outerTx);
    this.writesSentTogether = config?.writesSentTogether === true;
  }

  /** BEGIN and the pragma in one trip: the pragma only holds inside a transaction, and ends with it. */
  override begin(conn: ExecConnection): Promise<unknown> {
    return this.writesSentTogether ? exec(conn, 'BEGIN IMMEDIATE; PRAGMA defer_foreign_keys = ON;') : super.begin(conn);
  }

  /**
   * A COMMIT that fails (a deferred foreign key that does not hold) leaves SQLite's transaction open,
   * and knex releases the connection as it is: every later statement would join that transaction and
   * none would ever commit. So after any failure the transaction is rolled back here (SQLite answers
   * that none is open when knex rolled it back already); a connection where even that fails is
   * discarded.
   */
  override async _onAcquire(container: unknown, conn: ExecConnection): Promise<unknown> {
    if (!this.writesSentTogether) return super._onAcquire(container, conn);
    try {
      return await super._onAcquire(container, conn);
    } catch (e) {
      await exec(conn, 'ROLLBACK;').catch((rollbackError: Error) => {
        if (!/no transaction is active/.test(rollbackError.message)) conn.__knex__disposed = rollbackError;
      });
      throw e;
    }
  }
}

interface Kept {
  /** By SQL, least recently used first. */
  statements: Map<string, Promise<Statement>>;
  /** Finalizations of statements let go, which the connection's close must wait for. */
  finalizing: Set<Promise<void>>;
}

/** Per connection, not per client: knex runs a transaction's queries through a copy of the client made without constructing one. */
const keptOn = new WeakMap<Connection, Kept>();

export class PreparedSqliteClient extends KnexSqliteClient {
  override transaction(container: unknown, config: TransactionOptions, outerTx: unknown): knex.Knex.Transaction {
    return new SqliteTransaction(this, container, config, outerTx) as unknown as knex.Knex.Transaction;
  }

  _query(connection: Connection, obj: Query): Promise<Query> {
    if (!obj.sql) throw new Error('The query is empty');
    // As knex's own client chooses: `run` reports lastID and changes, `all` returns rows.
    const returnsRows = !RUN_METHODS.has(obj.method ?? '') || (!!obj.returning && (obj.method === 'insert' || obj.method === 'update'));
    return statementFor(connection, obj.sql).then((statement) => new Promise<Query>((resolve, reject) => {
      const done: Callback = function (err, response) {
        if (err) return reject(err);
        obj.response = response;
        // The statement, with lastID and changes: knex reads them from here.
        obj.context = this;
        resolve(obj);
      };
      if (returnsRows) statement.all(obj.bindings ?? [], done);
      else statement.run(obj.bindings ?? [], done);
    }));
  }

  override async destroyRawConnection(connection: Connection): Promise<void> {
    const kept = keptOn.get(connection);
    keptOn.delete(connection);
    if (kept) {
      for (const statement of kept.statements.values()) letGo(kept, statement);
      await Promise.all(kept.finalizing);
    }
    await super.destroyRawConnection(connection);
  }
}

function statementFor(connection: Connection, sql: string): Promise<Statement> {
  let kept = keptOn.get(connection);
  if (!kept) keptOn.set(connection, (kept = { statements: new Map(), finalizing: new Set() }));
  const { statements } = kept;
  const found = statements.get(sql);
  if (found) {
    statements.delete(sql);
    statements.set(sql, found);
    return found;
  }
  const prepared = new Promise<Statement>((resolve, reject) => {
    const statement = connection.prepare(sql, (err) => (err ? reject(err) : resolve(statement)));
  });
  statements.set(sql, prepared);
  // A statement that failed to prepare (a syntax error, a table not there yet) is not kept.
  prepared.catch(() => {
    if (statements.get(sql) === prepared) statements.delete(sql);
  });
  if (statements.size > MAX_STATEMENTS) {
    const [oldestSql, oldest] = statements.entries().next().value!;
    statements.delete(oldestSql);
    letGo(kept, oldest);
  }
  return prepared;
}

/** Finalizes a statement once whatever is queued on it has run. */
function letGo(kept: Kept, statement: Promise<Statement>): void {
  const done = statement.then((s) => new Promise<void>((resolve) => s.finalize(resolve)), () => undefined);
  kept.finalizing.add(done);
  void done.then(() => kept.finalizing.delete(done));
}
