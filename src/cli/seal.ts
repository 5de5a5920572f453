/**
 * `oneseal seal …`: the seal key lifecycle on the local HSM and database, no server needed, as the
 * person logged in with `oneseal login` (or as break-glass) and through the same changes, policy and
 * two-person control as the admin API (src/api/routes/admin-seals.ts, src/access/two-person.ts).
 */
import { readFile } from 'node:fs/promises';
import { authorize } from '../access/policy.js';
import { approveProposal, PROPOSAL_STATUSES, proposalView, readProposals, rejectProposal, requestChange } from '../access/two-person.js';
import { qrKeyChangeText } from '../pki/licence-qr-changes.js';
import { requireSeal, type RotationStep } from '../seals/lifecycle.js';
import { parseVersionNumber } from '../seals/requests.js';
import { sealDetail, sealView, type VersionView } from '../seals/views.js';
import type { ProposalRecord, ProposalStatus } from '../store/approvals.js';
import { listSeals, listSealVersions } from '../store/seals.js';
import { actAs, printChange, secretLines } from './acting.js';
import { printResult, UsageError, type CommandContext, type CommandRunner } from './command.js';

export function str(ctx: CommandContext, key: string): string | undefined {
  const v = ctx.values[key];
  return typeof v === 'string' ? v : undefined;
}

/** A flag's number, left as the raw text when it is not one so the request check names the field. */
export function numberOr(ctx: CommandContext, key: string): number | string | undefined {
  const v = str(ctx, key);
  return v === undefined || v.trim() === '' || Number.isNaN(Number(v)) ? v : Number(v);
}

export function positional(ctx: CommandContext, index: number, usage: string): string {
  const v = ctx.positionals[index];
  if (!v) throw new UsageError(`usage: oneseal ${usage}`);
  return v;
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

/** When the version's certificate ends: an administrator plans the next rotation from it. */
function expiryText(notAfter: string | null, now = new Date()): string {
  if (!notAfter) return 'no certificate';
  return `${new Date(notAfter) <= now ? 'certificate expired' : 'certificate expires'} ${notAfter.slice(0, 10)}`;
}

function versionLine(v: VersionView): string {
  const when = v.destroyedAt ? `key destroyed ${v.destroyedAt}` : v.revokedAt ? `revoked ${v.revokedAt} (${v.revocationReason})` : v.retiredAt ? `retired ${v.retiredAt}` : v.activatedAt ?? v.createdAt;
  return `  v${v.version}  ${v.status.padEnd(9)} ${v.algorithm.padEnd(8)} serial ${v.certSerial ?? '-'}  ${expiryText(v.notAfter)}  ${v.signatureCount} signatures  ${when}`;
}

/** One line for what a seal change (or a licence-QR key change, approved as proposals are) did, from its result. */
export function resultText(result: Record<string, unknown>): string {
  const version = result.version as VersionView | undefined;
  const retired = result.retired as VersionView | null | undefined;
  if (typeof result.kid === 'string') return qrKeyChangeText(result);
  switch (result.action) {
    case 'rotate':
      return `version ${version!.version} is active (certificate ${version!.certSerial})${retired ? `; version ${retired.version} retired` : ''}`;
    case 'revoke':
      return `version ${version!.version} revoked (${version!.revocationReason}, ${version!.revokedAt}); OCSP and the CRL report it from now on`;
    case 'destroy-key':
      return `the key of version ${version!.version} is destroyed on the HSM; documents it sealed still verify`;
    default:
      return typeof result.name === 'string' ? `${result.name}${typeof result.id === 'string' ? ` (${result.id})` : ''}` : 'done';
  }
}

function proposalLine(p: ProposalRecord): string {
  const view = proposalView(p);
  const params = Object.entries(view.params).filter(([k]) => k !== 'sealId').map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
  return `${p.id}  ${p.status.padEnd(8)} ${p.action} ${p.subject}${params ? ` ${params}` : ''}  proposed by ${p.proposedBy} ${p.proposedAt}${p.approvedBy ? `, approved by ${p.approvedBy}` : ''}${p.rejectedBy ? `, rejected by ${p.rejectedBy}` : ''}`;
}

export const sealCreate: CommandRunner = {
  async run(ctx) {
    const image = str(ctx, 'image');
    const diameterMm = numberOr(ctx, 'diameter-mm');
    const everyDays = numberOr(ctx, 'every-days');
    const afterSignatures = numberOr(ctx, 'after-signatures');
    const policy = everyDays === undefined && afterSignatures === undefined ? undefined : { everyDays, afterSignatures };
    const appearance = image
      ? { kind: 'image', pngBase64: (await readFile(image)).toString('base64'), diameterMm }
      : diameterMm === undefined ? undefined : { kind: 'generated', diameterMm };
    // The same request as the API's JSON body; an absent flag is an absent field.
    const request = Object.fromEntries(Object.entries({
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
    }).filter(([, v]) => v !== undefined));
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'seal.create', request), (seal) => {
        const v = (seal.versions as VersionView[])[0]!;
        return `created seal ${String(seal.id)} (${String(seal.organisation)} ${String(seal.name)}): version 1 active, ${v.algorithm}, certificate ${v.certSerial}${seal.twoPersonControl ? '; under two-person control' : ''}`;
      }, { flat: true }));
  },
};

export const sealList: CommandRunner = {
  async run(ctx) {
    return actAs(ctx, async ({ store }, actor) => {
      authorize(actor, 'seal.admin-read');
      const views = await Promise.all((await listSeals(store.db)).map(async (s) => sealView(s, await listSealVersions(store.db, s.id))));
      const lines = views.flatMap((s) => [
        `${s.id.padEnd(20)} ${s.organisation} ${s.name}  active v${s.activeVersion ?? '-'} of ${s.versions.length}${s.twoPersonControl ? '  [two-person]' : ''}${s.isTest ? '  [test]' : ''}`,
        ...s.versions.map(versionLine),
      ]);
      printResult(ctx, { seals: views }, lines.join('\n') || 'no seals yet: oneseal init creates the default one');
      return 0;
    });
  },
};

export const sealShow: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal show ID');
    return actAs(ctx, async (services, actor) => {
      authorize(actor, 'seal.admin-read');
      const detail = await sealDetail(services.store.db, await requireSeal(services, id));
      const policy = detail.rotationPolicy as { everyDays?: number; afterSignatures?: number } | null;
      const lines = [
        `${detail.id}  ${detail.organisation} ${detail.name} (${detail.sealType})`,
        `  credit code   ${detail.creditCode}`,
        `  algorithm     ${detail.keyAlgorithm}, certificates for ${detail.certValidityDays} days`,
        `  control       ${detail.twoPersonControl || services.config.production ? 'two-person (changes need a second seal-admin)' : 'one person'}`,
        `  rotation      ${policy ? [policy.everyDays && `every ${policy.everyDays} days`, policy.afterSignatures && `after ${policy.afterSignatures} signatures`].filter(Boolean).join(' or ') : 'manual'}${detail.rotationPolicyApprovedBy ? ` (approved by ${detail.rotationPolicyApprovedBy.join(', ')})` : ''}`,
        '  versions',
        ...detail.versions.map((v) => `  ${versionLine(v)}`),
      ];
      printResult(ctx, detail, lines.join('\n'));
      return 0;
    });
  },
};

export const sealRotate: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal rotate ID');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'seal.rotate', { sealId: id }, { onStep: progress(ctx, `rotating ${id}`) }), (r) => `rotation of ${id}: ${resultText(r)}`));
  },
};

export const sealRevoke: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal revoke ID VERSION --reason REASON');
    const version = parseVersionNumber(positional(ctx, 1, 'seal revoke ID VERSION --reason REASON'));
    if (str(ctx, 'reason') === undefined) throw new UsageError('say why: --reason keyCompromise, superseded, cessationOfOperation, affiliationChanged, …');
    const request = { sealId: id, version, reason: str(ctx, 'reason'), ...(str(ctx, 'revoked-at') ? { revokedAt: str(ctx, 'revoked-at') } : {}) };
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'seal.revoke', request), (r) => `revocation of ${id} v${version}: ${resultText(r)}`));
  },
};

export const sealDestroyKey: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal destroy-key ID VERSION');
    const version = parseVersionNumber(positional(ctx, 1, 'seal destroy-key ID VERSION'));
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'seal.destroy-key', { sealId: id, version }), (r) => `key destruction of ${id} v${version}: ${resultText(r)}`));
  },
};

export const sealProposals: CommandRunner = {
  async run(ctx) {
    const status = str(ctx, 'status');
    if (status !== undefined && !PROPOSAL_STATUSES.includes(status as ProposalStatus)) throw new UsageError(`--status must be one of ${PROPOSAL_STATUSES.join(', ')}`);
    const sealId = str(ctx, 'seal');
    return actAs(ctx, async (services, actor) => {
      const proposals = await readProposals(services, actor, { ...(status ? { status: status as ProposalStatus } : {}), ...(sealId ? { sealId } : {}) });
      printResult(ctx, { proposals: proposals.map(proposalView) }, proposals.map(proposalLine).join('\n') || 'no proposals');
      return 0;
    });
  },
};

export const sealApprove: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal approve PROPOSAL-ID');
    const digest = str(ctx, 'digest');
    // No --break-glass: approving takes a second person; the PIN holder carries a change out directly instead.
    return actAs(ctx, async (services, actor) => {
      const { proposal, result } = await approveProposal(services, actor, id, { onStep: progress(ctx, `proposal ${id}`), ...(digest ? { digest } : {}) });
      const text = [`approved ${proposal.action} of ${proposal.subject}: ${resultText(result)}`, ...secretLines(result)].join('\n');
      printResult(ctx, { proposal: proposalView(proposal), result }, text);
      return 0;
    });
  },
};

export const sealReject: CommandRunner = {
  async run(ctx) {
    const id = positional(ctx, 0, 'seal reject PROPOSAL-ID');
    return actAs(ctx, async (services, actor) => {
      const proposal = await rejectProposal(services, actor, id);
      printResult(ctx, { proposal: proposalView(proposal) }, `rejected ${proposal.action} of ${proposal.subject} (proposal ${proposal.id})`);
      return 0;
    });
  },
};

