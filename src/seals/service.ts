/**
 * Seals and their versions as the rest of OneSeal uses them: create a seal (its first key and
 * certificate), and find the material a stamp signs with.
 */
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import type { Hsm, HsmKey } from '../hsm/hsm.js';
import type { KeyAlgorithm } from '../hsm/types.js';
import { issueUnderRoot, recordIssuedCertificate, type Authority } from '../pki/authority.js';
import { serialHex, toCertificate } from '../pki/der.js';
import { organizationIdentifierForCreditCode } from '../pki/names.js';
import type { AccessSecrets } from '../access/secrets.js';
import type { ChangeOptions } from './lifecycle.js';
import type { RotationPolicy } from './scheduler.js';
import type { Store } from '../store/db.js';
import {
  activeSealVersion,
  type RotationPolicyApproval,
  getSeal,
  insertSeal,
  insertSealVersion,
  type SealRecord,
  type SealVersionRecord,
} from '../store/seals.js';

const DAY_MS = 24 * 3600 * 1000;

export interface NewSealInput {
  id: string;
  organisation: string;
  creditCode: string;
  name: string;
  sealType?: string;
  keyAlgorithm?: KeyAlgorithm;
  certValidityDays?: number;
  twoPersonControl?: boolean;
  isTest?: boolean;
  appearance?: { kind: 'generated'; diameterMm?: number } | { kind: 'image'; pngBase64: string; diameterMm?: number };
}

/** A rotation policy set together with the seal, with its approval (src/seals/scheduler.ts). */
export interface ApprovedRotationPolicy {
  policy: RotationPolicy;
  approval: RotationPolicyApproval;
}

export interface SealDeps {
  store: Store;
  hsm: Hsm;
  authority: Authority;
}

/**
 * What governed changes and the scheduler need beyond the seals: the server secret (proposals and
 * policy approvals are sealed with it) and whether this is production (always two-person control).
 */
export interface GovernedDeps extends SealDeps {
  secrets: AccessSecrets;
  config: { production: boolean };
}

/** What a stamp needs: the seal, the exact version it signs with, its HSM key and certificate chain. */
export interface SigningMaterial {
  seal: SealRecord;
  version: SealVersionRecord;
  key: HsmKey;
  certificate: Uint8Array;
  /** Issuer certificates, signer's issuer first. */
  chain: Uint8Array[];
}

const SEAL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export async function createSeal(
  deps: SealDeps,
  input: NewSealInput,
  actor: string,
  change: Pick<ChangeOptions, 'beforeChange' | 'auditDetails'> & { rotationPolicy?: ApprovedRotationPolicy } = {},
): Promise<{ seal: SealRecord; version: SealVersionRecord }> {
  if (!SEAL_ID.test(input.id)) {
    throw new OneSealError('invalid-seal-id', 'unprocessable', `Seal id "${input.id}" must be lower-case letters, digits and dashes (up to 63).`);
  }
  if (await getSeal(deps.store.db, input.id)) {
    throw new OneSealError('seal-exists', 'conflict', `A seal with id "${input.id}" already exists.`);
  }
  const seal = {
    id: input.id,
    organisation: input.organisation,
    creditCode: input.creditCode,
    name: input.name,
    sealType: input.sealType ?? 'official',
    appearance: input.appearance ?? { kind: 'generated' },
    keyAlgorithm: input.keyAlgorithm ?? 'RSA-2048',
    certValidityDays: input.certValidityDays ?? 730,
    rotationPolicy: change.rotationPolicy?.policy ?? null,
    rotationPolicyApproval: change.rotationPolicy?.approval ?? null,
    twoPersonControl: input.twoPersonControl ?? false,
    isTest: input.isTest ?? false,
  };
  const material = await newVersionMaterial(deps, seal, 1);
  return deps.store.db.transaction(async (trx) => {
    await change.beforeChange?.(trx);
    const record = await insertSeal(trx, seal);
    await recordIssuedCertificate(trx, material.certificate);
    const version = await insertSealVersion(trx, { sealId: seal.id, version: 1, status: 'active', ...material.fields });
    await appendAudit(trx, {
      actor,
      action: 'seal.create',
      subject: seal.id,
      details: {
        version: 1, keyId: material.fields.keyId, certSerial: material.fields.certSerial, algorithm: seal.keyAlgorithm,
        twoPersonControl: seal.twoPersonControl, rotationPolicy: seal.rotationPolicy, ...change.auditDetails,
      },
    });
    return { seal: record, version };
  });
}

/** A new key in the HSM and its certificate; nothing is recorded yet. */
export async function newVersionMaterial(
  deps: SealDeps,
  seal: Pick<SealRecord, 'id' | 'organisation' | 'creditCode' | 'name' | 'keyAlgorithm' | 'certValidityDays' | 'isTest'>,
  version: number,
  onStep?: (step: 'key' | 'certificate') => void,
) {
  const label = `seal-${seal.id}-v${version}`;
  onStep?.('key');
  const key = await deps.hsm.generateKeyPair({ label, algorithm: seal.keyAlgorithm });
  onStep?.('certificate');
  const now = new Date();
  const certificate = await issueUnderRoot(deps.authority.root, {
    subjectSpki: key.spki,
    subject: {
      country: 'CN',
      organization: seal.organisation,
      organizationalUnit: seal.isTest ? '测试印章 TEST SEAL' : undefined,
      commonName: `${seal.organisation}${seal.name}`,
      organizationIdentifier: organizationIdentifierForCreditCode(seal.creditCode),
      serialNumber: `${seal.id}-v${version}`,
    },
    profile: 'seal',
    notBefore: now,
    notAfter: new Date(now.getTime() + seal.certValidityDays * DAY_MS),
    urls: deps.authority.urls,
  });
  const cert = toCertificate(certificate);
  return {
    key,
    certificate,
    fields: {
      keyId: key.id,
      keyLabel: label,
      algorithm: key.algorithm,
      certificate,
      certSerial: serialHex(cert),
      notBefore: cert.notBefore.value.toISOString(),
      notAfter: cert.notAfter.value.toISOString(),
    },
  };
}

/** The active version of a seal, with its key on the HSM: what the next stamp signs with. */
export async function signingMaterial(deps: SealDeps, sealId: string): Promise<SigningMaterial> {
  const seal = await getSeal(deps.store.db, sealId);
  if (!seal) throw new OneSealError('seal-not-found', 'not-found', `There is no seal "${sealId}". List the seals with \`oneseal seal list\` or GET /v1/seals.`);
  const version = await activeSealVersion(deps.store.db, sealId);
  if (!version || !version.certificate) {
    throw new OneSealError('seal-not-active', 'conflict', `Seal "${sealId}" has no active key version: rotate or activate one before stamping.`);
  }
  const key = await deps.hsm.findKey(version.keyId);
  if (!key) {
    throw new OneSealError('seal-key-missing', 'unavailable', `The key of seal "${sealId}" version ${version.version} is not on the HSM token.`);
  }
  return { seal, version, key, certificate: version.certificate, chain: [deps.authority.root.certificate] };
}
