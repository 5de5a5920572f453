/**
 * The item catalogue (事项目录): import checks every row — columns, code, name, department, seal,
 * level, placement, certification, reason template, licence type, overridable options, duplicates —
 * and reports every problem with its line; one bad row and nothing is changed. A good file is applied
 * in one transaction (items are added or replaced by code; items not in the file stay).
 */
import { appendAudit } from '../audit/chain.js';
import { actorLabel, type Actor } from '../access/actors.js';
import { knownLicenceTypes } from '../access/clients.js';
import { authorize } from '../access/policy.js';
import { OneSealError } from '../errors.js';
import { nowIso } from '../store/codec.js';
import type { Db } from '../store/db.js';
import { listItems, upsertItems, type ItemRecord } from '../store/items.js';
import { listSeals } from '../store/seals.js';
import { readCatalogue, type CatalogueFormat, type CatalogueRow } from './catalogue-file.js';
import { LEVELS, OVERRIDABLE, parsePlacement, reasonTemplateProblem } from './profile.js';

export const COLUMNS = ['code', 'name', 'department', 'seal', 'level', 'placement', 'certify', 'reasonTemplate', 'licenceType', 'overridable'] as const;
const REQUIRED = ['code', 'name', 'department', 'seal', 'placement'];
export const ITEM_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME = /^[^\p{Cc}]{1,100}$/u;
const DEPARTMENT = /^[^\p{Cc}]{1,64}$/u;

export interface RowProblem {
  line: number;
  field: string;
  message: string;
}

export function itemView(i: ItemRecord) {
  return {
    code: i.code,
    name: i.name,
    department: i.department,
    profile: { seal: i.sealId, level: i.level, placement: i.placement, certify: i.certify, reasonTemplate: i.reasonTemplate, overridable: i.overridable },
    licenceType: i.licenceType,
    updatedAt: i.updatedAt,
  };
}

/** One row → an item, or its problems. */
function checkRow(row: CatalogueRow, seals: ReadonlySet<string>, types: readonly string[], problems: RowProblem[], actor: string, at: string): ItemRecord | undefined {
  const before = problems.length;
  const fail = (field: string, message: string) => problems.push({ line: row.line, field, message });
  const f = row.fields;
  for (const k of Object.keys(f)) if (!(COLUMNS as readonly string[]).includes(k)) fail(k, `is not a column (columns: ${COLUMNS.join(', ')})`);
  for (const k of REQUIRED) if (!f[k]) fail(k, 'is required');
  if (f.code && !ITEM_CODE.test(f.code)) fail('code', 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  if (f.name && !NAME.test(f.name)) fail('name', 'must be 1 to 100 characters without control characters');
  if (f.department && !DEPARTMENT.test(f.department)) fail('department', 'must be 1 to 64 characters without control characters');
  if (f.seal && !seals.has(f.seal)) fail('seal', `there is no seal "${f.seal}" (seals: ${[...seals].join(', ') || 'none'})`);
  const level = f.level ? f.level.toUpperCase() : null;
  if (level && !(LEVELS as readonly string[]).includes(level)) fail('level', `must be one of ${LEVELS.join(', ')}, not "${f.level}"`);
  if (f.placement) {
    const placement = parsePlacement(f.placement);
    if (typeof placement === 'string') fail('placement', placement);
  }
  if (f.certify && !['1', '2', '3'].includes(f.certify)) fail('certify', `must be 1, 2 or 3 (DocMDP), not "${f.certify}"`);
  const templateProblem = f.reasonTemplate ? reasonTemplateProblem(f.reasonTemplate) : undefined;
  if (templateProblem) fail('reasonTemplate', templateProblem);
  if (f.licenceType && !types.includes(f.licenceType)) fail('licenceType', `there is no licence type "${f.licenceType}" (${types.join(', ')})`);
  const overridable = (f.overridable ?? '').split('|').map((s) => s.trim()).filter(Boolean);
  for (const o of overridable) if (!(OVERRIDABLE as readonly string[]).includes(o)) fail('overridable', `"${o}" cannot be overridden (only ${OVERRIDABLE.join(', ')})`);
  if (problems.length > before) return undefined;
  return {
    code: f.code!,
    name: f.name!,
    department: f.department!,
    sealId: f.seal!,
    level,
    placement: f.placement!,
    certify: f.certify ? Number(f.certify) : null,
    reasonTemplate: f.reasonTemplate || null,
    overridable: [...new Set(overridable)],
    licenceType: f.licenceType || null,
    updatedBy: actor,
    updatedAt: at,
  };
}

export interface ImportResult {
  imported: number;
  items: ReturnType<typeof itemView>[];
}

/** Checks the whole file, then applies it in one transaction, or throws 422 listing every bad row. */
export async function importItems(deps: { store: { db: Db } }, actor: Actor, text: string, format: CatalogueFormat): Promise<ImportResult> {
  authorize(actor, 'item.import');
  const rows = readCatalogue(text, format);
  if (rows.length === 0) throw new OneSealError('invalid-catalogue', 'unprocessable', 'The catalogue has no items.');
  const db = deps.store.db;
  const seals = new Set((await listSeals(db)).map((s) => s.id));
  const label = actorLabel(actor);
  const at = nowIso();
  const problems: RowProblem[] = [];
  const firstLine = new Map<string, number>();
  const records: ItemRecord[] = [];
  for (const row of rows) {
    const code = row.fields.code;
    if (code && firstLine.has(code)) problems.push({ line: row.line, field: 'code', message: `duplicate code "${code}" (first on line ${firstLine.get(code)})` });
    else if (code) firstLine.set(code, row.line);
    const record = checkRow(row, seals, knownLicenceTypes(), problems, label, at);
    if (record) records.push(record);
  }
  if (problems.length) {
    problems.sort((a, b) => a.line - b.line);
    throw new OneSealError('invalid-catalogue', 'unprocessable',
      `The catalogue was not imported (nothing changed): ${problems.map((p) => `line ${p.line}: ${p.field} ${p.message}`).join('; ')}.`,
      { fields: problems.map((p) => ({ field: `line ${p.line}: ${p.field}`, message: p.message })), extra: { rows: problems } });
  }
  await db.transaction(async (trx) => {
    await upsertItems(trx, records);
    await appendAudit(trx, { actor: label, action: 'item.import', subject: 'catalogue', details: { format, items: records.map((r) => r.code) } });
  });
  return { imported: records.length, items: records.map(itemView) };
}

export async function readItems(deps: { store: { db: Db } }, actor: Actor, filter: { department?: string } = {}): Promise<ReturnType<typeof itemView>[]> {
  authorize(actor, 'item.read');
  return (await listItems(deps.store.db, filter)).map(itemView);
}
