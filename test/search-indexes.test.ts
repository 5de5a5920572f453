/**
 * The search queries use the indexes of migrations 011 and 012, on SQLite and PostgreSQL: for each main filter
 * the plan walks the index made for it, in the list's order, with no scan of the whole table and no
 * sort (PostgreSQL may fetch a handful of matches through the index and sort those). Plans, not timings (bench/search.ts times them on a million rows). The tables hold generated
 * rows with planner statistics, as in service, so the planner chooses as it would there.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSearchQuery } from '../src/store/audit.js';
import { openStore, type Store } from '../src/store/db.js';
import { licenceSearchQuery } from '../src/store/licences.js';
import { countStampsBy, stampCountQuery, stampSearchQuery, type StampGrouping } from '../src/store/stamps.js';
import { explain, fillSearchTables, type Dialect } from '../bench/search.js';
import { testBackends, type TestDatabase } from './support/databases.js';

const PAGE = 51;
const TODAY = '2026-12-01';
const T = '2025-01-06T00:00:00.000Z';
/** Within the generated rows' time span (30,000 at 31.5 s apart from 2025-01-01: eleven days). */
const DAYS = { from: '2025-01-03T00:00:00.000Z', to: '2025-01-09T00:00:00.000Z' };

/** [what, the query, the index it must walk (or either, where the filter is so common that walking by time finds a page as fast)]. */
const CASES: [string, (db: Knex) => Knex.QueryBuilder, string | string[]][] = [
  ['stamps, no filter', (db) => stampSearchQuery(db, {}, undefined, PAGE), 'stamps_by_time'],
  ['stamps, no filter, after a cursor', (db) => stampSearchQuery(db, {}, [T, 'x'], PAGE), 'stamps_by_time'],
  ['stamps of a client (its scope), after a cursor', (db) => stampSearchQuery(db, { ownerClientId: 'bench-client-3' }, [T, 'x'], PAGE), 'stamps_by_client_scope'],
  ['stamps of a client by department, after a cursor', (db) => stampSearchQuery(db, { ownerClientId: 'bench-client-3', department: 'DEPT-5' }, [T, 'x'], PAGE), ['stamps_by_client_scope', 'stamps_by_department']],
  ['stamps by caseNumber', (db) => stampSearchQuery(db, { caseNumber: 'CASE-77' }, undefined, PAGE), 'stamps_by_case'],
  ['stamps by itemCode', (db) => stampSearchQuery(db, { itemCode: 'ITEM-7' }, undefined, PAGE), 'stamps_by_item_client'],
  ['stamps by itemCode within a client\'s scope and days', (db) => stampSearchQuery(db, { ownerClientId: 'bench-client-3', itemCode: 'ITEM-7', ...DAYS }, undefined, PAGE), 'stamps_by_item_client'],
  ['stamps by department', (db) => stampSearchQuery(db, { department: 'DEPT-5' }, undefined, PAGE), 'stamps_by_department'],
  ['stamps by centre within days', (db) => stampSearchQuery(db, { centreCode: 'C3', ...DAYS }, undefined, PAGE), 'stamps_by_centre'],
  ['stamps by department and centre, after a cursor', (db) => stampSearchQuery(db, { department: 'DEPT-5', centreCode: 'C6' }, [T, 'x'], PAGE), ['stamps_by_department', 'stamps_by_centre']],
  ['stamps by filename', (db) => stampSearchQuery(db, { filename: 'doc-77.pdf' }, undefined, PAGE), 'stamps_by_filename'],
  ['stamps by caseNumber within a client\'s scope', (db) => stampSearchQuery(db, { ownerClientId: 'bench-client-3', caseNumber: 'CASE-77' }, undefined, PAGE), 'stamps_by_case'],
  ['licences, no filter', (db) => licenceSearchQuery(db, { today: TODAY }, undefined, PAGE), 'licences_by_time'],
  ['licences by holderId', (db) => licenceSearchQuery(db, { today: TODAY, holderId: 'HID77' }, undefined, PAGE), 'licences_by_holder_id'],
  ['licences by holderName', (db) => licenceSearchQuery(db, { today: TODAY, holderName: '持有人77' }, undefined, PAGE), 'licences_by_holder_name'],
  ['licences of a client', (db) => licenceSearchQuery(db, { today: TODAY, ownerClientId: 'bench-client-3', typeIds: ['business-licence'] }, undefined, PAGE), 'licences_by_owner'],
  ['audit by actor', (db) => auditSearchQuery(db, { actor: 'person:officer-3' }, undefined, PAGE), 'audit_by_actor'],
  ['audit by action', (db) => auditSearchQuery(db, { action: 'seal.rotate' }, undefined, PAGE), 'audit_by_action'],
  ['audit by actor within days, after a cursor', (db) => auditSearchQuery(db, { actor: 'person:officer-3', ...DAYS }, ['2025-01-08T00:00:00.000Z', 9], PAGE), 'audit_by_actor'],
  ['stamps of a seal within days', (db) => stampSearchQuery(db, { sealId: 'bench-seal-1', ...DAYS }, undefined, PAGE), ['stamps_by_seal_client', 'stamps_by_time']],
];

describe.each(await testBackends())('search indexes on $name', ({ name, skip, make }) => {
  const dialect: Dialect = name === 'sqlite' ? 'sqlite' : 'pg';
  let db: TestDatabase;
  let store: Store;

  beforeAll(async () => {
    if (skip) return;
    db = make();
    store = await openStore({ database: db.database });
    await fillSearchTables(store.db, dialect, { stamps: 30_000, audit: 30_000, licences: 6_000 });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await db?.cleanup();
  });

  it.skipIf(skip).each(CASES)('%s walks its index in order', async (_what, build, expected) => {
    const text = await explain(store.db, dialect, build(store.db), { noSeqScan: true });
    const index = [expected].flat().find((name) => text.includes(name));
    expect(index, text).toBeDefined();
    if (dialect === 'sqlite') {
      expect(text).toMatch(new RegExp(`SEARCH \\w+ USING (COVERING )?INDEX ${index}|SCAN \\w+ USING (COVERING )?INDEX ${index}`));
      expect(text).not.toMatch(/TEMP B-TREE/);
    } else {
      // Walking the index in order, or (when the statistics say a handful of rows match) fetching those
      // through it and sorting the handful, which PostgreSQL rightly finds cheaper.
      const walked = new RegExp(`Index Scan( Backward)? using ${index}`).test(text) && !/Sort/.test(text);
      const fetched = new RegExp(`Bitmap Index Scan on ${index}`).test(text);
      expect(walked || fetched, text).toBe(true);
      expect(text).not.toMatch(/Seq Scan/);
    }
  });

  /** The stamp indexes led by an optional column, and that column (migration 014). */
  const PARTIAL: [string, string][] = [
    ['stamps_by_case', 'case_number'], ['stamps_by_filename', 'filename'], ['stamps_by_item_client', 'item_code'],
    ['stamps_by_department', 'department'], ['stamps_by_centre', 'centre_code'], ['stamps_batch_id_index', 'batch_id'],
  ];

  it.skipIf(skip)('indexes led by an optional column hold only the stamps that have a value there', async () => {
    const definitions = new Map<string, string>(dialect === 'sqlite'
      ? ((await store.db.raw("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'stamps'")) as { name: string; sql: string }[]).map((r) => [r.name, r.sql])
      : ((await store.db.raw('SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ? AND schemaname = current_schema()', ['stamps'])) as { rows: { indexname: string; indexdef: string }[] }).rows.map((r) => [r.indexname, r.indexdef]));
    for (const [index, column] of PARTIAL) {
      expect(definitions.get(index), index).toMatch(dialect === 'sqlite' ? new RegExp(`where \`${column}\` is not null$`, 'i') : new RegExp(`WHERE \\(${column} IS NOT NULL\\)$`));
    }
  });

  const GROUPINGS: [StampGrouping, string, string][] = [['department', 'department', 'stamps_by_department'], ['item', 'item_code', 'stamps_by_item_client'], ['centre', 'centre_code', 'stamps_by_centre']];

  it.skipIf(skip).each(GROUPINGS)('stamp statistics by %s count each group, the stamps without one included, as grouping every row does', async (by, column) => {
    const naive = ((await store.db('stamps').select({ key: column }).count({ n: '*' }).where('created_at', '>=', DAYS.from).where('created_at', '<', DAYS.to).groupBy(column)) as { key: string | null; n: unknown }[])
      .map((r) => ({ key: r.key, count: Number(r.n) }));
    const sorted = (groups: { key: string | null; count: number }[]) => [...groups].sort((a, b) => String(a.key).localeCompare(String(b.key)));
    expect(naive.length).toBeGreaterThan(1);
    expect(sorted(await countStampsBy(store.db, by, DAYS))).toEqual(sorted(naive));
  });

  it.skipIf(skip).each(GROUPINGS)('stamp statistics by %s walk the partial index and stamps_by_time, not the table', async (by, _column, index) => {
    const text = await explain(store.db, dialect, stampCountQuery(store.db, by, DAYS), { noSeqScan: true });
    if (dialect === 'sqlite') {
      expect(text).toMatch(new RegExp(`SEARCH stamps USING COVERING INDEX ${index} `));
      expect(text).toMatch(/SEARCH stamps USING COVERING INDEX stamps_by_time /);
      expect(text).not.toMatch(/TEMP B-TREE|SCAN stamps/);
    } else {
      expect(text).not.toMatch(/Seq Scan/);
    }
  });
});
