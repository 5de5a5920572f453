/**
 * Rotating the licence-QR key and revoking its certificate as changes under two-person control
 * (src/access/two-person.ts), like a seal's key: the QR key signs for the seal that issues licences, so
 * outside production that seal's own flag decides whether a second seal-admin must approve (and a
 * missing seal counts as under control); in production a second person always approves.
 */
import type { ChangeHandler, Execution, GovernedDeps } from '../access/two-person.js';
import { OneSealError } from '../errors.js';
import { DEFAULT_SEAL_ID } from '../init.js';
import { checkRevocation } from '../seals/lifecycle.js';
import { parseRevokeRequest } from '../seals/requests.js';
import { getSeal } from '../store/seals.js';
import { activeLicenceQrKey } from '../store/licence-qr-keys.js';
import { requireLicenceQrKey, revokeLicenceQrCertificate, rotateLicenceQrKey, type QrKeyChangeOptions } from './licence-qr.js';
import type { RevocationReason } from './revocation.js';

/** What proposals name as the subject: the licence-QR signer, or one of its keys by kid. */
const SUBJECT = 'licence-qr';

async function licenceSealUnderTwoPerson(deps: GovernedDeps): Promise<boolean> {
  return (await getSeal(deps.store.db, DEFAULT_SEAL_ID))?.twoPersonControl ?? true;
}

function changeOptions(run: Execution): QrKeyChangeOptions {
  return { beforeChange: (trx) => run.beforeChange(trx), auditDetails: run.auditDetails };
}

const rotate: ChangeHandler<Record<string, never>> = {
  action: 'licence-qr.rotate',
  async prepare() {
    return { params: {}, subject: SUBJECT, sealId: null };
  },
  needsSecondPerson: licenceSealUnderTwoPerson,
  async execute(deps, _params, run) {
    const retiring = await activeLicenceQrKey(deps.store.db);
    const kid = await rotateLicenceQrKey({ db: deps.store.db, hsm: deps.hsm, authority: deps.authority }, run.label, changeOptions(run));
    return { action: 'rotate', kid: kid!, retired: retiring?.kid ?? null };
  },
};

type RevokeParams = { kid: string; reason: string; revokedAt?: string };

const revoke: ChangeHandler<RevokeParams> = {
  action: 'licence-qr.revoke',
  async prepare(deps, input) {
    const o = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
    if (typeof o.kid !== 'string' || !/^[0-9a-fA-F]{16}$/.test(o.kid)) {
      throw new OneSealError('invalid-kid', 'unprocessable', 'Name the licence-QR key by its kid: 16 hexadecimal digits, as the trust list shows it.', {
        fields: [{ field: 'kid', message: '16 hexadecimal digits' }],
      });
    }
    const body = parseRevokeRequest({ reason: o.reason, ...(o.revokedAt !== undefined ? { revokedAt: o.revokedAt } : {}) });
    checkRevocation(body.reason, body.revokedAt === undefined ? undefined : new Date(body.revokedAt), new Date());
    const key = await requireLicenceQrKey(deps.store.db, o.kid);
    return { params: { kid: key.kid, ...body }, subject: `${SUBJECT}:${key.kid}`, sealId: null };
  },
  needsSecondPerson: licenceSealUnderTwoPerson,
  async execute(deps, params, run) {
    const wasActive = (await requireLicenceQrKey(deps.store.db, params.kid)).status === 'active';
    await revokeLicenceQrCertificate(deps.store.db, params.kid, params.reason as RevocationReason, run.label, {
      ...changeOptions(run),
      ...(params.revokedAt ? { revokedAt: new Date(params.revokedAt) } : {}),
    });
    const key = await requireLicenceQrKey(deps.store.db, params.kid);
    return { action: 'revoke', kid: key.kid, status: key.status, wasActive, reason: params.reason, revokedAt: params.revokedAt ?? null };
  },
};

/** One line for what a licence-QR key change did, from its result (the CLI prints it, also after an approval). */
export function qrKeyChangeText(result: Record<string, unknown>): string {
  if (result.action === 'rotate') return `licence-QR key ${String(result.kid)} now signs${result.retired ? `; ${String(result.retired)} retired (QR codes it signed still verify)` : ''}`;
  const stopped = result.status === 'retired' && result.wasActive ? '; no key signs licences until `oneseal pki qr-rotate`' : '';
  return `licence-QR certificate ${String(result.kid)} revoked (${String(result.reason)}${result.revokedAt ? `, from ${String(result.revokedAt)}` : ''})${stopped}`;
}

export const LICENCE_QR_CHANGES = { 'licence-qr.rotate': rotate, 'licence-qr.revoke': revoke };
