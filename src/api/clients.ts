/**
 * API clients as administrators manage them (CLI now, admin routes later): create one with a fresh
 * key (returned once, never stored), list, revoke. Each change is audited in its own transaction.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { nowIso } from '../store/codec.js';
import type { Db } from '../store/db.js';
import { getClient, insertClient, listClients, updateClient, type ApiClientRecord } from '../store/clients.js';
import { getSeal } from '../store/seals.js';
import type { Knex } from 'knex';
import { generateApiKey, hashApiKey } from './api-keys.js';

export interface ClientView {
  id: string;
  name: string;
  seals: string[];
  isAdmin: boolean;
  createdAt: string;
  revokedAt: string | null;
}

export function clientView(c: ApiClientRecord): ClientView {
  return { id: c.id, name: c.name, seals: c.seals, isAdmin: c.isAdmin, createdAt: c.createdAt, revokedAt: c.revokedAt };
}

export async function createApiClient(db: Knex, input: { name: string; seals: string[]; isAdmin: boolean }, actor: string): Promise<ClientView & { key: string }> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new OneSealError('invalid-client-name', 'bad-request', 'The client name must be 1 to 100 characters.');
  for (const sealId of input.seals) {
    if (!(await getSeal(db, sealId))) throw new OneSealError('seal-not-found', 'not-found', `There is no seal "${sealId}" to grant.`);
  }
  const { key, keyId } = generateApiKey();
  const record: ApiClientRecord = {
    id: randomUUID(),
    name,
    keyPrefix: keyId,
    keyHash: await hashApiKey(key),
    seals: [...new Set(input.seals)],
    isAdmin: input.isAdmin,
    createdAt: nowIso(),
    revokedAt: null,
  };
  await db.transaction(async (trx) => {
    await insertClient(trx, record);
    await appendAudit(trx, { actor, action: 'client.create', subject: record.id, details: { name, seals: record.seals, isAdmin: record.isAdmin } });
  });
  return { ...clientView(record), key };
}

export async function listApiClients(db: Db): Promise<ClientView[]> {
  return (await listClients(db)).map(clientView);
}

export async function revokeApiClient(db: Knex, id: string, actor: string): Promise<ClientView> {
  return db.transaction(async (trx) => {
    const client = await getClient(trx, id);
    if (!client) throw new OneSealError('client-not-found', 'not-found', `There is no API client "${id}"; \`oneseal client list\` shows them.`);
    if (client.revokedAt) return clientView(client);
    const revokedAt = nowIso();
    await updateClient(trx, id, { revokedAt });
    await appendAudit(trx, { actor, action: 'client.revoke', subject: id, details: { name: client.name } });
    return clientView({ ...client, revokedAt });
  });
}
