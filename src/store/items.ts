/** The item catalogue, the service centres and the delegations of items to centres: storage only (rules in src/items). */
import { int, json, mapper, nullable, text } from './codec.js';
import type { Db } from './db.js';

export interface ItemRecord {
  code: string;
  name: string;
  department: string;
  sealId: string;
  /** PAdES level; null: the stamper's default. */
  level: string | null;
  /** "anchor:TEXT", "field:NAME", "position:PAGE,X,Y" (mm) or "invisible". */
  placement: string;
  certify: number | null;
  reasonTemplate: string | null;
  /** Stamp options a request may set over the profile. */
  overridable: string[];
  licenceType: string | null;
  updatedBy: string;
  updatedAt: string;
}

export interface CentreRecord {
  code: string;
  name: string;
  createdBy: string;
  createdAt: string;
}

export interface DelegationRecord {
  itemCode: string;
  centreCode: string;
  createdBy: string;
  createdAt: string;
}

const nullableText = nullable(text);
const items = mapper<ItemRecord>({
  code: ['code', text],
  name: ['name', text],
  department: ['department', text],
  sealId: ['seal_id', text],
  level: ['level', nullableText],
  placement: ['placement', text],
  certify: ['certify', nullable(int)],
  reasonTemplate: ['reason_template', nullableText],
  overridable: ['overridable', json<string[]>()],
  licenceType: ['licence_type', nullableText],
  updatedBy: ['updated_by', text],
  updatedAt: ['updated_at', text],
});
const centres = mapper<CentreRecord>({
  code: ['code', text],
  name: ['name', text],
  createdBy: ['created_by', text],
  createdAt: ['created_at', text],
});
const delegations = mapper<DelegationRecord>({
  itemCode: ['item_code', text],
  centreCode: ['centre_code', text],
  createdBy: ['created_by', text],
  createdAt: ['created_at', text],
});

/** Inserts or replaces each item (by code), in the caller's transaction. */
export async function upsertItems(db: Db, records: readonly ItemRecord[]): Promise<void> {
  for (const r of records) {
    const { code, ...rest } = items.toRow(r);
    await db('items').insert({ code, ...rest }).onConflict('code').merge(rest);
  }
}

export async function getItem(db: Db, code: string): Promise<ItemRecord | undefined> {
  const row = await db('items').where({ code }).first();
  return row ? items.fromRow(row) : undefined;
}

export async function listItems(db: Db, filter: { department?: string } = {}): Promise<ItemRecord[]> {
  const q = db('items').orderBy(['department', 'code']);
  if (filter.department) q.where({ department: filter.department });
  return (await q).map(items.fromRow);
}

/** False when a centre with that code exists. */
export async function insertCentre(db: Db, centre: CentreRecord): Promise<boolean> {
  return (await db('centres').insert(centres.toRow(centre)).onConflict('code').ignore().returning('code')).length > 0;
}

export async function getCentre(db: Db, code: string): Promise<CentreRecord | undefined> {
  const row = await db('centres').where({ code }).first();
  return row ? centres.fromRow(row) : undefined;
}

export async function listCentres(db: Db): Promise<CentreRecord[]> {
  return (await db('centres').orderBy('code')).map(centres.fromRow);
}

/** False when the item was delegated to the centre already. */
export async function insertDelegation(db: Db, d: DelegationRecord): Promise<boolean> {
  return (await db('delegations').insert(delegations.toRow(d)).onConflict(['item_code', 'centre_code']).ignore().returning('item_code')).length > 0;
}

/** False when there was no such delegation. */
export async function deleteDelegation(db: Db, itemCode: string, centreCode: string): Promise<boolean> {
  return (await db('delegations').where({ item_code: itemCode, centre_code: centreCode }).delete()) > 0;
}

export async function isDelegated(db: Db, itemCode: string, centreCode: string): Promise<boolean> {
  return (await db('delegations').where({ item_code: itemCode, centre_code: centreCode }).first('item_code')) !== undefined;
}

export async function listDelegations(db: Db, filter: { centreCode?: string } = {}): Promise<DelegationRecord[]> {
  const q = db('delegations').orderBy(['centre_code', 'item_code']);
  if (filter.centreCode) q.where({ centre_code: filter.centreCode });
  return (await q).map(delegations.fromRow);
}
