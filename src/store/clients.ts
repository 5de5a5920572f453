/** System clients (API keys): a lookup prefix and a key hash; the key itself is never stored (src/access owns hashing). */
import { json, mapper, nullable, text } from './codec.js';
import type { Db } from './db.js';

export type Scope = 'stamps' | 'licences' | 'verify';

export interface ApiClientRecord {
  id: string;
  name: string;
  /** The public part of the key, used to find the row before comparing hashes. */
  keyPrefix: string;
  keyHash: string;
  /** Seal ids this client may stamp with. */
  seals: string[];
  scopes: Scope[];
  /** Licence types this client may issue (with the licences scope). */
  licenceTypes: string[];
  /** The service centre the client belongs to; null: the district hall. */
  centreCode: string | null;
  createdAt: string;
  revokedAt: string | null;
}

const clients = mapper<ApiClientRecord>({
  id: ['id', text],
  name: ['name', text],
  keyPrefix: ['key_prefix', text],
  keyHash: ['key_hash', text],
  seals: ['seals', json<string[]>()],
  scopes: ['scopes', json<Scope[]>()],
  licenceTypes: ['licence_types', json<string[]>()],
  centreCode: ['centre_code', nullable(text)],
  createdAt: ['created_at', text],
  revokedAt: ['revoked_at', nullable(text)],
});

/** False when a client with that name exists (the insert, a write, can start a transaction safely). */
export async function insertClient(db: Db, client: ApiClientRecord): Promise<boolean> {
  return (await db('api_clients').insert(clients.toRow(client)).onConflict('name').ignore().returning('id')).length > 0;
}

/** Locks a client's row for the rest of the transaction by writing it (as lockPersonByName), then reads it. */
export async function lockClient(trx: Db, id: string): Promise<ApiClientRecord | undefined> {
  await trx('api_clients').where({ id }).update({ name: trx.raw('??', ['name']) });
  return getClient(trx, id);
}

export async function getClient(db: Db, id: string): Promise<ApiClientRecord | undefined> {
  const row = await db('api_clients').where({ id }).first();
  return row ? clients.fromRow(row) : undefined;
}

export async function findClientByName(db: Db, name: string): Promise<ApiClientRecord | undefined> {
  const row = await db('api_clients').where({ name }).first();
  return row ? clients.fromRow(row) : undefined;
}

export async function findClientByPrefix(db: Db, keyPrefix: string): Promise<ApiClientRecord | undefined> {
  const row = await db('api_clients').where({ key_prefix: keyPrefix }).first();
  return row ? clients.fromRow(row) : undefined;
}

export async function listClients(db: Db): Promise<ApiClientRecord[]> {
  return (await db('api_clients').orderBy('created_at')).map(clients.fromRow);
}

export async function updateClient(db: Db, id: string, patch: Partial<Omit<ApiClientRecord, 'id' | 'createdAt'>>): Promise<void> {
  await db('api_clients').where({ id }).update(clients.toRow(patch));
}

/** Replaces a key hash only if it is still the one that was checked (a concurrent rotation wins). */
export async function replaceKeyHash(db: Db, id: string, from: string, to: string): Promise<void> {
  await db('api_clients').where({ id, key_hash: from }).update({ key_hash: to });
}
