/**
 * `oneseal seal …`: the seal key lifecycle on the local HSM and database, no server needed — the
 * same checks and two-person control as the admin API (src/api/routes/admin-seals.ts). The actor for
 * the audit log and for two-person control is --actor, by default cli:<os user>.
 */
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { approve, propose, reject, type ActionResult, type ProposalOutcome } from '../seals/approvals.js';
import { requireSeal, type RotationStep } from '../seals/lifecycle.js';
import { parseCreateSeal, parseRevokeRequest, parseVersionNumber } from '../seals/requests.js';
import { setRotationPolicy } from '../seals/scheduler.js';
import { createSeal } from '../seals/service.js';
import { actionResultView, outcomeView, proposalView, sealDetail, sealView, type VersionView } from '../seals/views.js';
import { openServices, type Services } from '../services.js';
import { listProposals, type ProposalRecord, type ProposalStatus } from '../store/approvals.js';
import { openStore, type Store } from '../store/db.js';
import { listSeals, listSealVersions } from '../store/seals.js';
import { printResult, UsageError, type Command, type CommandContext } from './command.js';
import { osUser } from './stamp.js';

const ACTOR_OPTION = { actor: { type: 'string' } } as const;

function actorOf(ctx: CommandContext): string {
  const given = ctx.values.actor;
  if (given === undefined) return `cli:${osUser()}`;
  if (typeof given !== 'string' || given.trim() === '') throw new UsageError('--actor needs a name');
  return given.trim();
}

function str(ctx: CommandContext, key: string): string | undefined {
  const v = ctx.values[key];
  return typeof v === 'string' ? v : undefined;
}

/** A flag's number, left as the raw text when it is not one so the request check names the field. */
function numberOr(ctx: CommandContext, key: string): number | string | undefined {
  const v = str(ctx, key);
  return v === undefined || v.trim() === '' || Number.isNaN(Number(v)) ? v : Number(v);
}

function positional(ctx: CommandContext, index: number, usage: string): string {
  const v = ctx.positionals[index];
  if (!v) throw new UsageError(`usage: oneseal ${usage}`);
  return v;
}

async function withServices<T>(ctx: CommandContext, fn: (services: Services) => Promise<T>): Promise<T> {
  const services = await openServices(loadConfig(ctx.io.env));
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** Reading needs only the database: no HSM login. */
async function withStore<T>(ctx: CommandContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(loadConfig(ctx.io.env));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const STEP_TEXT: Record<RotationStep, string> = {
  key: 'generating the key pair in the HSM',
  certificate: 'issuing its certificate under the root',
  switch: 'switching the active version',
};

/** Progress on stderr, so --json output stays one document on stdout. */
function progress(ctx: CommandContext, what: string): (step: RotationStep) => void {
  const start = performance.now();
  return (step) => ctx.io.err(`${what}: ${STEP_TEXT[step]}… (${((performance.now() - start) / 1000).toFixed(1)} s)`);
}

function versionLine(v: VersionView): string {
  const when = v.destroyedAt ? `key destroyed ${v.destroyedAt}` : v.revokedAt ? `revoked ${v.revokedAt} (${v.revocationReason})` : v.retiredAt ? `retired ${v.retiredAt}` : v.activatedAt ?? v.createdAt;
  return `  v${v.version}  ${v.status.padEnd(9)} ${v.algorithm.padEnd(8)} serial ${v.certSerial ?? '-'}  ${v.signatureCount} signatures  ${when}`;
}

function resultText(result: ActionResult): string {
  const view = actionResultView(result);
  switch (view.action) {
    case 'rotate':
      return `version ${view.version.version} is active (certificate ${view.version.certSerial})${view.retired ? `; version ${view.retired.version} retired` : ''}`;
    case 'revoke':
      return `version ${view.version.version} revoked (${view.version.revocationReason}, ${view.version.revokedAt}); OCSP and the CRL report it from now on`;
    case 'destroy-key':
      return `the key of version ${view.version.version} is destroyed on the HSM; documents it sealed still verify`;
  }
}

function proposalLine(p: ProposalRecord): string {
  const params = Object.entries(p.params).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  return `${p.id}  ${p.status.padEnd(8)} ${p.action} ${p.sealId}${params ? ` ${params}` : ''}  proposed by ${p.proposedBy} ${p.proposedAt}${p.approvedBy ? `, approved by ${p.approvedBy}` : ''}${p.rejectedBy ? `, rejected by ${p.rejectedBy}` : ''}`;
}

function printOutcome(ctx: CommandContext, outcome: ProposalOutcome, what: string): number {
  const text = outcome.executed
    ? `${what}: ${resultText(outcome.result)}`
    : `${what} is proposed (seal under two-person control) as proposal ${outcome.proposal.id}.\nA different administrator must approve it: oneseal seal approve ${outcome.proposal.id}`;
  printResult(ctx, outcomeView(outcome), text);
  return 0;
}

export const sealCreate: Command = {
  name: 'seal create',
  summary: 'create a seal: its first HSM key and certificate',
  usage:
    '--id ID --organisation NAME --credit-code CODE --name SEAL-NAME [--type TYPE] [--algorithm RSA-2048|RSA-3072|EC-P256|EC-P384] [--validity-days N] [--two-person] [--every-days N] [--after-signatures N] [--image SEAL.png] [--diameter-mm N] [--actor NAME] ',
  options: {
    id: { type: 'string' },
    organisation: { type: 'string' },
    'credit-code': { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    algorithm: { type: 'string' },
    'validity-days': { type: 'string' },
    'two-person': { type: 'boolean' },
    'every-days': { type: 'string' },
    'after-signatures': { type: 'string' },
    image: { type: 'string' },
    'diameter-mm': { type: 'string' },
    ...ACTOR_OPTION,
  },
  async run(ctx) {
    const image = str(ctx, 'image');
    const diameterMm = numberOr(ctx, 'diameter-mm');
    const everyDays = numberOr(ctx, 'every-days');
    const afterSignatures = numberOr(ctx, 'after-signatures');
    const policy = everyDays === undefined && afterSignatures === undefined ? undefined : { everyDays, afterSignatures };
    const appearance = image
      ? { kind: 'image', pngBase64: (await readFile(image)).toString('base64'), diameterMm }
      : diameterMm === undefined ? undefined : { kind: 'generated', diameterMm };
    // The same check as the API's JSON body; an absent flag is an absent field.
    const request = parseCreateSeal({
      id: str(ctx, 'id'),
      organisation: str(ctx, 'organisation'),
      creditCode: str(ctx, 'credit-code'),
      name: str(ctx, 'name'),
      sealType: str(ctx, 'type'),
      keyAlgorithm: str(ctx, 'algorithm'),
      certValidityDays: numberOr(ctx, 'validity-days'),
      twoPersonControl: ctx.values['two-person'] === true ? true : undefined,
      rotationPolicy: policy,
      appearance,
    });
    const actor = actorOf(ctx);
    return withServices(ctx, async (services) => {
      // Like the default seal `oneseal init` makes: outside production every seal is marked as a test seal in its certificate.
      const { seal, version } = await createSeal(services, { ...request.seal, isTest: !services.config.production }, actor);
      const stored = request.rotationPolicy ? await setRotationPolicy(services, seal.id, request.rotationPolicy, actor) : seal;
      printResult(
        ctx,
        await sealDetail(services.store.db, stored),
        `created seal ${seal.id} (${seal.organisation} ${seal.name}): version 1 active, ${version.algorithm}, certificate ${version.certSerial}${seal.twoPersonControl ? '; under two-person control' : ''}`,
      );
      return 0;
    });
  },
};

export const sealList: Command = {
  name: 'seal list',
  summary: 'list every seal with its active version',
  async run(ctx) {
    return withStore(ctx, async (store) => {
      const views = await Promise.all((await listSeals(store.db)).map(async (s) => sealView(s, await listSealVersions(store.db, s.id))));
      const lines = views.map(
        (s) => `${s.id.padEnd(20)} ${s.organisation} ${s.name}  active v${s.activeVersion ?? '-'} of ${s.versions.length}${s.twoPersonControl ? '  [two-person]' : ''}${s.isTest ? '  [test]' : ''}`,
      );
      printResult(ctx, { seals: views }, lines.join('\n') || 'no seals yet: oneseal init creates the default one');
      return 0;
    });
  },
};

export const sealShow: Command = {
  name: 'seal show',
  summary: 'show a seal: its versions, statuses and certificate serials',
  usage: 'ID ',
  positionals: 1,
  async run(ctx) {
    const id = positional(ctx, 0, 'seal show ID');
    return withStore(ctx, async (store) => {
      const detail = await sealDetail(store.db, await requireSeal({ store }, id));
      const policy = detail.rotationPolicy as { everyDays?: number; afterSignatures?: number } | null;
      const lines = [
        `${detail.id}  ${detail.organisation} ${detail.name} (${detail.sealType})`,
        `  credit code   ${detail.creditCode}`,
        `  algorithm     ${detail.keyAlgorithm}, certificates for ${detail.certValidityDays} days`,
        `  control       ${detail.twoPersonControl ? 'two-person (changes need a second administrator)' : 'single administrator'}`,
        `  rotation      ${policy ? [policy.everyDays && `every ${policy.everyDays} days`, policy.afterSignatures && `after ${policy.afterSignatures} signatures`].filter(Boolean).join(' or ') : 'manual'}`,
        '  versions',
        ...detail.versions.map((v) => `  ${versionLine(v)}`),
      ];
      printResult(ctx, detail, lines.join('\n'));
      return 0;
    });
  },
};

export const sealRotate: Command = {
  name: 'seal rotate',
  summary: 'new key and certificate become active; the old version retires (proposed under two-person control)',
  usage: 'ID [--actor NAME] ',
  positionals: 1,
  options: ACTOR_OPTION,
  async run(ctx) {
    const id = positional(ctx, 0, 'seal rotate ID');
    const actor = actorOf(ctx);
    return withServices(ctx, async (services) =>
      printOutcome(ctx, await propose(services, 'rotate', { sealId: id }, actor, { onStep: progress(ctx, `rotating ${id}`) }), `rotation of ${id}`),
    );
  },
};

export const sealRevoke: Command = {
  name: 'seal revoke',
  summary: 'revoke a version’s certificate (OCSP and the CRL report it)',
  usage: 'ID VERSION --reason keyCompromise|superseded|cessationOfOperation|… [--revoked-at ISO-TIME] [--actor NAME] ',
  positionals: 2,
  options: { reason: { type: 'string' }, 'revoked-at': { type: 'string' }, ...ACTOR_OPTION },
  async run(ctx) {
    const id = positional(ctx, 0, 'seal revoke ID VERSION --reason REASON');
    const version = parseVersionNumber(positional(ctx, 1, 'seal revoke ID VERSION --reason REASON'));
    if (str(ctx, 'reason') === undefined) throw new UsageError('say why: --reason keyCompromise, superseded, cessationOfOperation, affiliationChanged, …');
    const body = parseRevokeRequest({ reason: str(ctx, 'reason'), ...(str(ctx, 'revoked-at') ? { revokedAt: str(ctx, 'revoked-at') } : {}) });
    const actor = actorOf(ctx);
    return withServices(ctx, async (services) =>
      printOutcome(ctx, await propose(services, 'revoke', { sealId: id, version, ...body }, actor), `revocation of ${id} v${version}`),
    );
  },
};

export const sealDestroyKey: Command = {
  name: 'seal destroy-key',
  summary: 'delete a retired or revoked version’s private key from the HSM (documents keep verifying)',
  usage: 'ID VERSION [--actor NAME] ',
  positionals: 2,
  options: ACTOR_OPTION,
  async run(ctx) {
    const id = positional(ctx, 0, 'seal destroy-key ID VERSION');
    const version = parseVersionNumber(positional(ctx, 1, 'seal destroy-key ID VERSION'));
    const actor = actorOf(ctx);
    return withServices(ctx, async (services) =>
      printOutcome(ctx, await propose(services, 'destroy-key', { sealId: id, version }, actor), `key destruction of ${id} v${version}`),
    );
  },
};

const STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected', 'executed'];

export const sealProposals: Command = {
  name: 'seal proposals',
  summary: 'list two-person-control proposals',
  usage: '[--status pending|approved|rejected|executed] [--seal ID] ',
  options: { status: { type: 'string' }, seal: { type: 'string' } },
  async run(ctx) {
    const status = str(ctx, 'status');
    if (status !== undefined && !STATUSES.includes(status as ProposalStatus)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    const sealId = str(ctx, 'seal');
    return withStore(ctx, async (store) => {
      const proposals = await listProposals(store.db, { ...(status ? { status: status as ProposalStatus } : {}), ...(sealId ? { sealId } : {}) });
      printResult(ctx, { proposals: proposals.map(proposalView) }, proposals.map(proposalLine).join('\n') || 'no proposals');
      return 0;
    });
  },
};

export const sealApprove: Command = {
  name: 'seal approve',
  summary: 'approve and carry out a proposal (a different administrator from the proposer)',
  usage: 'PROPOSAL-ID [--actor NAME] ',
  positionals: 1,
  options: ACTOR_OPTION,
  async run(ctx) {
    const id = positional(ctx, 0, 'seal approve PROPOSAL-ID');
    const actor = actorOf(ctx);
    return withServices(ctx, async (services) => {
      const { proposal, result } = await approve(services, id, actor, { onStep: progress(ctx, `proposal ${id}`) });
      printResult(ctx, { proposal: proposalView(proposal), result: actionResultView(result) }, `approved ${proposal.action} of ${proposal.sealId}: ${resultText(result)}`);
      return 0;
    });
  },
};

export const sealReject: Command = {
  name: 'seal reject',
  summary: 'reject a pending proposal (the proposer may withdraw their own)',
  usage: 'PROPOSAL-ID [--actor NAME] ',
  positionals: 1,
  options: ACTOR_OPTION,
  async run(ctx) {
    const id = positional(ctx, 0, 'seal reject PROPOSAL-ID');
    const actor = actorOf(ctx);
    return withStore(ctx, async (store) => {
      const proposal = await reject({ store }, id, actor);
      printResult(ctx, { proposal: proposalView(proposal) }, `rejected ${proposal.action} of ${proposal.sealId} (proposal ${proposal.id})`);
      return 0;
    });
  },
};

export const SEAL_COMMANDS: readonly Command[] = [sealCreate, sealList, sealShow, sealRotate, sealRevoke, sealDestroyKey, sealProposals, sealApprove, sealReject];
