/**
 * Town service centres (便民服务中心) and the items delegated (委托) to them. Adding a centre grants
 * nothing by itself; delegating an item, and taking it back, are changes under two-person control
 * everywhere (a different seal-admin approves; the PIN holder's break-glass runs at once, audited as
 * such). Delegations are read from the database on every stamp, so a revocation takes effect at once.
 */
import { appendAudit } from '../audit/chain.js';
import { actorLabel, type Actor } from '../access/actors.js';
import { authorize } from '../access/policy.js';
import { invalidRequest, readRequest } from '../access/request-fields.js';
import type { ChangeHandler, GovernedDeps } from '../access/two-person.js';
import { OneSealError, type FieldError } from '../errors.js';
import { nowIso } from '../store/codec.js';
import type { Db } from '../store/db.js';
import {
  deleteDelegation, getCentre, getItem, insertCentre, insertDelegation, listCentres, listDelegations,
  type CentreRecord, type ItemRecord,
} from '../store/items.js';

export const CENTRE_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const CODE = 'invalid-centre-request';

function centreNotFound(code: string): OneSealError {
  return new OneSealError('centre-not-found', 'not-found', `There is no service centre "${code}"; \`oneseal centre list\` shows them.`,
    { fields: [{ field: 'centre', message: `no centre "${code}"` }] });
}

export function itemNotFound(code: string): OneSealError {
  return new OneSealError('item-not-found', 'not-found', `There is no item "${code}" in the catalogue; GET /v1/items lists them.`,
    { fields: [{ field: 'itemCode', message: `no item "${code}"` }] });
}

export async function requireCentre(db: Db, code: string): Promise<CentreRecord> {
  const centre = CENTRE_CODE.test(code) ? await getCentre(db, code) : undefined;
  if (!centre) throw centreNotFound(code);
  return centre;
}

export async function requireItem(db: Db, code: string): Promise<ItemRecord> {
  const item = await getItem(db, code);
  if (!item) throw itemNotFound(code);
  return item;
}

/** The optional `centre` of a client or person request: a known centre's code, or null for the district hall. */
export function centreField(o: Record<string, unknown>, errors: FieldError[]): string | null {
  if (o.centre === undefined || o.centre === null) return null;
  if (typeof o.centre !== 'string' || !CENTRE_CODE.test(o.centre)) {
    errors.push({ field: 'centre', message: 'must be a centre code (letters, digits, ".", "_", "-"), or absent for the district hall' });
    return null;
  }
  return o.centre;
}

export async function checkCentreExists(db: Db, code: string | null): Promise<void> {
  if (code !== null && !(await getCentre(db, code))) throw invalidRequest(CODE, [{ field: 'centre', message: `there is no centre "${code}"` }]);
}

export async function addCentre(deps: Pick<GovernedDeps, 'store'>, actor: Actor, input: unknown): Promise<CentreRecord> {
  authorize(actor, 'centre.add');
  const { code, name } = readRequest(CODE, input, ['code', 'name'], (o, errors) => {
    if (typeof o.code !== 'string' || !CENTRE_CODE.test(o.code)) errors.push({ field: 'code', message: 'must be 1 to 32 letters, digits, ".", "_" or "-"' });
    if (typeof o.name !== 'string' || !/^[^\p{Cc}]{1,60}$/u.test(o.name.trim())) errors.push({ field: 'name', message: 'must be 1 to 60 characters without control characters' });
    return { code: String(o.code), name: String(o.name).trim() };
  });
  const centre: CentreRecord = { code, name, createdBy: actorLabel(actor), createdAt: nowIso() };
  await deps.store.db.transaction(async (trx) => {
    if (!(await insertCentre(trx, centre))) throw new OneSealError('centre-exists', 'conflict', `A centre with the code "${code}" exists already.`);
    await appendAudit(trx, { actor: centre.createdBy, action: 'centre.add', subject: code, details: { name } });
  });
  return centre;
}

export async function readCentres(deps: Pick<GovernedDeps, 'store'>, actor: Actor) {
  authorize(actor, 'centre.read');
  const db = deps.store.db;
  const delegations = await listDelegations(db);
  return (await listCentres(db)).map((c) => ({
    code: c.code,
    name: c.name,
    createdAt: c.createdAt,
    items: delegations.filter((d) => d.centreCode === c.code).map((d) => d.itemCode),
  }));
}

type DelegationParams = { itemCode: string; centreCode: string };

async function delegationRequest(db: Db, input: unknown): Promise<{ item: ItemRecord; centre: CentreRecord }> {
  const { item, centre } = readRequest(CODE, input, ['item', 'centre'], (o, errors) => {
    if (typeof o.item !== 'string' || o.item === '') errors.push({ field: 'item', message: 'name the item code' });
    if (typeof o.centre !== 'string' || o.centre === '') errors.push({ field: 'centre', message: 'name the centre code' });
    return { item: String(o.item), centre: String(o.centre) };
  });
  return { item: await requireItem(db, item), centre: await requireCentre(db, centre) };
}

/** Both directions: who may use a seal for an item changes, so a second seal-admin approves, always. */
function delegationChange(action: 'delegation.create' | 'delegation.revoke'): ChangeHandler<DelegationParams> {
  const creating = action === 'delegation.create';
  return {
    action,
    async prepare(deps, input) {
      const { item, centre } = await delegationRequest(deps.store.db, input);
      const current = (await listDelegations(deps.store.db, { centreCode: centre.code })).some((d) => d.itemCode === item.code);
      if (current === creating) {
        throw new OneSealError('nothing-to-change', 'conflict', `Item ${item.code} is ${creating ? 'already' : 'not'} delegated to ${centre.code}.`);
      }
      return { params: { itemCode: item.code, centreCode: centre.code }, subject: `${item.code}@${centre.code}`, sealId: item.sealId };
    },
    needsSecondPerson: async () => true,
    async execute(deps, params, run) {
      return deps.store.db.transaction(async (trx) => {
        await run.beforeChange(trx);
        const changed = creating
          ? await insertDelegation(trx, { ...params, createdBy: run.label, createdAt: nowIso() })
          : await deleteDelegation(trx, params.itemCode, params.centreCode);
        if (!changed) throw new OneSealError('nothing-to-change', 'conflict', `Item ${params.itemCode} is ${creating ? 'already' : 'no longer'} delegated to ${params.centreCode}.`);
        await appendAudit(trx, {
          actor: run.label, action, subject: `${params.itemCode}@${params.centreCode}`,
          details: { item: params.itemCode, centre: params.centreCode, breakGlass: run.actor.kind === 'break-glass', ...run.auditDetails },
        });
        return { item: params.itemCode, centre: params.centreCode, delegated: creating };
      });
    },
  };
}

export const DELEGATION_CHANGES = { 'delegation.create': delegationChange('delegation.create'), 'delegation.revoke': delegationChange('delegation.revoke') };
