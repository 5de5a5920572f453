/**
 * The seal changes under two-person control (src/access/two-person.ts): creating a seal, rotating,
 * revoking, destroying a key, setting a rotation policy, switching two-person control. Each request is
 * checked here before anything is stored, so a proposal that could never run is refused at once.
 * Outside production a seal's own flag decides whether a second person must approve; in production
 * every seal is under two-person control and the flag cannot be switched off.
 */
import { appendAudit } from '../audit/chain.js';
import type { ChangeHandler, Execution, GovernedDeps } from '../access/two-person.js';
import { OneSealError } from '../errors.js';
import type { RevocationReason } from '../pki/revocation.js';
import { getSealVersion, updateSeal } from '../store/seals.js';
import { checkDestroyable, checkRevocation, lockSeal, performKeyDestruction, performRevocation, requireSeal, type ChangeOptions } from './lifecycle.js';
import { parseCreateSeal, parseRevokeRequest, type CreateSealRequest } from './requests.js';
import { performRotation } from './rotation.js';
import { applyRotationPolicy, approvePolicy, parseRotationPolicy, type RotationPolicy } from './scheduler.js';
import { createSeal } from './service.js';
import { sealDetail, versionView } from './views.js';
import type { RotationPolicyApproval } from '../store/seals.js';

type SealParams = { sealId: string };

function asObject(input: unknown, what: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new OneSealError('invalid-seal-request', 'unprocessable', `${what} must be a JSON object.`);
  }
  return input as Record<string, unknown>;
}

function sealIdOf(input: unknown): string {
  const { sealId } = asObject(input, 'The request');
  if (typeof sealId !== 'string' || sealId === '') throw new OneSealError('invalid-seal-request', 'unprocessable', 'Name the seal.');
  return sealId;
}

/** A seal's own flag decides outside production (the engine makes production always two-person). */
async function sealUnderTwoPerson(deps: GovernedDeps, params: SealParams): Promise<boolean> {
  return (await requireSeal(deps, params.sealId)).twoPersonControl;
}

function changeOptions(run: Execution): ChangeOptions {
  return { beforeChange: (trx) => run.beforeChange(trx), auditDetails: run.auditDetails, ...(run.onStep ? { onStep: run.onStep } : {}) };
}

/** Who approved a policy being set in this change: both people, or the one actor where it ran at once. */
function policyApproval(deps: GovernedDeps, sealId: string, policy: RotationPolicy, run: Execution): RotationPolicyApproval {
  const kind = run.proposalId ? 'two-person' : run.actor.kind === 'break-glass' ? 'break-glass' : 'one-person';
  const approvedBy = run.proposalId ? [run.proposerLabel, run.label] : [run.label];
  return approvePolicy(deps.secrets, sealId, policy, { kind, approvedBy, proposalId: run.proposalId });
}

const createSealChange: ChangeHandler<CreateSealRequest> = {
  action: 'seal.create',
  async prepare(deps, input) {
    const request = parseCreateSeal(input);
    // In production every seal is under two-person control from its creation.
    if (deps.config.production) request.seal.twoPersonControl = true;
    if ((await deps.store.db('seals').where({ id: request.seal.id }).first('id')) !== undefined) {
      throw new OneSealError('seal-exists', 'conflict', `A seal with id "${request.seal.id}" already exists.`);
    }
    return { params: request, subject: request.seal.id, sealId: request.seal.id };
  },
  needsSecondPerson: async (_deps, params) => params.seal.twoPersonControl === true,
  async execute(deps, params, run) {
    const { seal } = await createSeal(deps, { ...params.seal, isTest: !deps.config.production }, run.label, {
      ...changeOptions(run),
      ...(params.rotationPolicy ? { rotationPolicy: { policy: params.rotationPolicy, approval: policyApproval(deps, params.seal.id, params.rotationPolicy, run) } } : {}),
    });
    return sealDetail(deps.store.db, seal);
  },
  // The seal image is stored with the proposal but is too large to list.
  publicParams: ({ seal, rotationPolicy }) => ({ seal: { ...seal, appearance: seal.appearance ? { kind: seal.appearance.kind } : undefined }, rotationPolicy }),
};

const rotate: ChangeHandler<SealParams> = {
  action: 'seal.rotate',
  async prepare(deps, input) {
    const sealId = sealIdOf(input);
    await requireSeal(deps, sealId);
    return { params: { sealId }, subject: sealId, sealId };
  },
  needsSecondPerson: sealUnderTwoPerson,
  async execute(deps, params, run) {
    const r = await performRotation(deps, params.sealId, run.label, changeOptions(run));
    return { action: 'rotate', version: versionView(r.version), retired: r.retired ? versionView(r.retired) : null };
  },
};

type VersionParams = SealParams & { version: number };
type RevokeParams = VersionParams & { reason: string; revokedAt?: string };

async function requireVersion(deps: GovernedDeps, input: unknown) {
  const o = asObject(input, 'The request');
  const sealId = sealIdOf(input);
  await requireSeal(deps, sealId);
  const version = o.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new OneSealError('invalid-seal-version', 'unprocessable', 'The version must be a positive whole number.', { fields: [{ field: 'version', message: 'a positive integer' }] });
  }
  const v = await getSealVersion(deps.store.db, sealId, version);
  if (!v) throw new OneSealError('seal-version-not-found', 'not-found', `Seal "${sealId}" has no version ${version}.`);
  return { sealId, version, record: v, o };
}

const revoke: ChangeHandler<RevokeParams> = {
  action: 'seal.revoke',
  async prepare(deps, input) {
    const { sealId, version, record, o } = await requireVersion(deps, input);
    const body = parseRevokeRequest({ reason: o.reason, ...(o.revokedAt !== undefined ? { revokedAt: o.revokedAt } : {}) });
    checkRevocation(body.reason, body.revokedAt === undefined ? undefined : new Date(body.revokedAt), new Date());
    if (record.revokedAt) throw new OneSealError('seal-version-revoked', 'conflict', `Seal "${sealId}" version ${version} is already revoked.`);
    return { params: { sealId, version, ...body }, subject: sealId, sealId };
  },
  needsSecondPerson: sealUnderTwoPerson,
  async execute(deps, params, run) {
    const v = await performRevocation(deps, params.sealId, params.version, {
      reason: params.reason as RevocationReason,
      actor: run.label,
      ...(params.revokedAt ? { revokedAt: new Date(params.revokedAt) } : {}),
    }, changeOptions(run));
    return { action: 'revoke', version: versionView(v) };
  },
};

const destroyKey: ChangeHandler<VersionParams> = {
  action: 'seal.destroy-key',
  async prepare(deps, input) {
    const { sealId, version, record } = await requireVersion(deps, input);
    checkDestroyable(record);
    return { params: { sealId, version }, subject: sealId, sealId };
  },
  needsSecondPerson: sealUnderTwoPerson,
  async execute(deps, params, run) {
    const v = await performKeyDestruction(deps, params.sealId, params.version, run.label, changeOptions(run));
    return { action: 'destroy-key', version: versionView(v) };
  },
};

type PolicyParams = SealParams & { policy: RotationPolicy | null };

const rotationPolicy: ChangeHandler<PolicyParams> = {
  action: 'seal.rotation-policy',
  async prepare(deps, input) {
    const o = asObject(input, 'The request');
    const sealId = sealIdOf(input);
    if (!('policy' in o)) {
      throw new OneSealError('invalid-rotation-policy', 'unprocessable', 'Send { "rotationPolicy": { "everyDays": 365, "afterSignatures": 100000 } }, or { "rotationPolicy": null } to remove it.');
    }
    const policy = parseRotationPolicy(o.policy);
    await requireSeal(deps, sealId);
    return { params: { sealId, policy }, subject: sealId, sealId };
  },
  needsSecondPerson: sealUnderTwoPerson,
  async execute(deps, params, run) {
    const approval = params.policy ? policyApproval(deps, params.sealId, params.policy, run) : null;
    return sealDetail(deps.store.db, await applyRotationPolicy(deps, params.sealId, params.policy, approval, run.label, changeOptions(run)));
  },
};

type TwoPersonParams = SealParams & { on: boolean };

const twoPersonSwitch: ChangeHandler<TwoPersonParams> = {
  action: 'seal.two-person',
  async prepare(deps, input) {
    const o = asObject(input, 'The request');
    const sealId = sealIdOf(input);
    if (typeof o.on !== 'boolean') throw new OneSealError('invalid-seal-request', 'unprocessable', 'Say { "twoPersonControl": true } or false.');
    if (deps.config.production) {
      throw new OneSealError('two-person-control-mandatory', 'conflict', 'In production every seal is under two-person control; it cannot be switched.');
    }
    const seal = await requireSeal(deps, sealId);
    if (seal.twoPersonControl === o.on) throw new OneSealError('nothing-to-change', 'conflict', `Seal "${sealId}" is ${o.on ? 'already' : 'not'} under two-person control.`);
    return { params: { sealId, on: o.on }, subject: sealId, sealId };
  },
  // Switching on tightens control and runs at once; switching off needs the second person it removes.
  needsSecondPerson: async (deps, params) => !params.on && (await requireSeal(deps, params.sealId)).twoPersonControl,
  async execute(deps, params, run) {
    await deps.store.db.transaction(async (trx) => {
      await lockSeal(trx, params.sealId);
      await run.beforeChange(trx);
      await updateSeal(trx, params.sealId, { twoPersonControl: params.on });
      await appendAudit(trx, { actor: run.label, action: 'seal.two-person', subject: params.sealId, details: { twoPersonControl: params.on, ...run.auditDetails } });
    });
    return sealDetail(deps.store.db, await requireSeal(deps, params.sealId));
  },
};

export const SEAL_CHANGES = {
  'seal.create': createSealChange,
  'seal.rotate': rotate,
  'seal.revoke': revoke,
  'seal.destroy-key': destroyKey,
  'seal.rotation-policy': rotationPolicy,
  'seal.two-person': twoPersonSwitch,
};
