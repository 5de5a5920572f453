/**
 * The licence lifecycle: issue (validate → serial → identifier → render → seal at B-LT with a
 * certification signature → record), change (a new version that supersedes the old one), revoke, and the
 * status a relying party sees, with expiry computed from the validity dates at read time. The API, the
 * CLI and the public page all go through here.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { appendAudit } from '../audit/chain.js';
import { OneSealError } from '../errors.js';
import { DEFAULT_SEAL_ID } from '../init.js';
import type { Services } from '../services.js';
import { buildLicenceId } from '../standards/licence-id.js';
import type { Stamper } from '../stamping/stamper.js';
import {
  allocateLicenceSerial,
  getLicence,
  insertLicence,
  markLicenceRevoked,
  markLicenceSuperseded,
  type LicenceRecord,
  type StoredLicenceStatus,
} from '../store/licences.js';
import { getSeal, incrementSignatureCount, type SealRecord } from '../store/seals.js';
import { licenceChangedOnCommit } from './record-cache.js';
import { ownVerifyOptions } from '../pki/verification.js';
import { verifyPdf, type Verdict } from '../verify/index.js';
import { publicHolder, type PublicHolder } from './masking.js';
import { LicenceTypeRegistry } from './registry.js';
import { renderLicence, verificationUrl } from './render.js';
import { createSign1 } from '../cose/sign1.js';
import { activeLicenceQrSigner, type LicenceQrSigner } from '../pki/licence-qr.js';
import { encodeQrPayload, qrText, type QrPayload } from './qr-payload.js';
import { addQrUpdate, withFinalEol } from './qr-update.js';
import { LONG_TERM, type Bilingual, type LicenceType } from './types.js';
import { assertValidLicenceData, type LicenceData } from './validate.js';

/** The seal that issues licences; its organisation is the issuing authority printed on them. */
export const LICENCE_SEAL_ID = DEFAULT_SEAL_ID;
/** The version part of a GB/T 36904 identifier has 3 digits. */
const MAX_VERSION = 999;
const MAX_REASON_LENGTH = 200;
/** China Standard Time: validity dates on licences are local calendar dates. */
const CST_OFFSET_MS = 8 * 3600 * 1000;

export type LicenceStatus = StoredLicenceStatus | 'expired';

export interface LicenceDeps {
  db: Knex;
  stamper: Stamper;
  publicUrl: string;
  registry: LicenceTypeRegistry;
  sealId: string;
  /** Signs the QR payload (src/pki/licence-qr.ts); read per licence so a rotation applies at once. */
  qrSigner: () => Promise<LicenceQrSigner>;
}

let builtInTypes: LicenceTypeRegistry | undefined;

export function licenceDeps(services: Services): LicenceDeps {
  builtInTypes ??= LicenceTypeRegistry.load();
  return {
    db: services.store.db,
    stamper: services.stamper,
    publicUrl: services.config.publicUrl,
    registry: builtInTypes,
    sealId: LICENCE_SEAL_ID,
    qrSigner: () => activeLicenceQrSigner({ db: services.store.db, hsm: services.hsm }),
  };
}

/** The calendar date in China, YYYY-MM-DD. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}

/** The status as of `today` (YYYY-MM-DD, China): a valid licence past its last day is expired; 长期 never expires. */
export function effectiveStatus(record: Pick<LicenceRecord, 'status' | 'validTo'>, today: string): LicenceStatus {
  if (record.status !== 'valid') return record.status;
  return record.validTo !== LONG_TERM && today > record.validTo ? 'expired' : 'valid';
}

export function licenceNotFound(id: string): OneSealError {
  return new OneSealError('licence-not-found', 'not-found', `There is no licence ${id}.`);
}

export async function requireLicence(db: Knex, id: string): Promise<LicenceRecord> {
  const record = await getLicence(db, id);
  if (!record) throw licenceNotFound(id);
  return record;
}

function typeOf(deps: LicenceDeps, typeId: unknown): LicenceType {
  if (typeof typeId !== 'string' || typeId === '') {
    throw new OneSealError('invalid-licence-data', 'unprocessable', 'Say which licence type to issue.', {
      fields: [{ field: 'type', message: `is required; one of ${deps.registry.list().map((t) => t.id).join(', ')}` }],
    });
  }
  try {
    return deps.registry.get(typeId);
  } catch (e) {
    if (!(e instanceof OneSealError)) throw e;
    throw new OneSealError('unknown-licence-type', 'unprocessable', e.message, { fields: [{ field: 'type', message: e.message }] });
  }
}

async function issuingSeal(deps: LicenceDeps): Promise<SealRecord> {
  const seal = await getSeal(deps.db, deps.sealId);
  if (!seal) {
    throw new OneSealError('licence-seal-missing', 'unavailable', `The seal "${deps.sealId}" that issues licences does not exist; run \`oneseal init\`.`);
  }
  return seal;
}

interface Production {
  type: LicenceType;
  data: LicenceData;
  seal: SealRecord;
  serial: string;
  version: number;
  supersedes: LicenceRecord | null;
  /** The system client the licence belongs to: its issuer, kept through later versions. */
  ownerClientId: string | null;
}

/** Renders, seals and records one licence version (and the supersession of the previous one) in one transaction. */
async function produce(deps: LicenceDeps, p: Production, actor: string): Promise<LicenceRecord> {
  const { type, data, seal } = p;
  const id = buildLicenceId({ typeCode: type.typeCode, issuer: seal.creditCode, serial: p.serial, version: String(p.version).padStart(3, '0') });
  const now = new Date();
  const signer = await deps.qrSigner();
  const holder = publicHolder(type, { name: data[type.holder.name]!, id: data[type.holder.id]! });
  const payload: QrPayload = {
    id, type: type.typeCode, holder: holder.name, holderId: holder.id, issuer: seal.creditCode, version: p.version,
    validFrom: data[type.validity.from]!, validTo: data[type.validity.to]!, issuedAt: Math.floor(now.getTime() / 1000), pdf: new Uint8Array(32),
  };
  const url = verificationUrl(deps.publicUrl, id);
  // Signed payloads have a fixed length, so a stand-in of zeros lays the page out for the real QR code.
  const standIn = qrText(url, await createSign1(encodeQrPayload(payload), signer.kid, async () => new Uint8Array(64)));
  const rendered = await renderLicence(
    { type, data, licenceId: id, issuer: { name: seal.organisation, creditCode: seal.creditCode }, issuedOn: chinaDate(now), publicBaseUrl: deps.publicUrl, qrText: standIn },
    { now, reserveQr: true },
  );
  const firstRevision = withFinalEol(rendered.pdf);
  payload.pdf = new Uint8Array(createHash('sha256').update(firstRevision).digest());
  const qr = qrText(url, await createSign1(encodeQrPayload(payload), signer.kid, signer.sign));
  const r = rendered.sealRect;
  const stamped = await deps.stamper.stamp(addQrUpdate(firstRevision, qr, rendered.qrRect), {
    sealId: seal.id,
    placement: { kind: 'position', page: r.page, x: r.x + r.width / 2, y: r.y + r.height / 2, unit: 'pt' },
    level: 'B-LT',
    // DocMDP 2: holders may still fill forms and add their own signatures; any other change breaks it.
    certify: 2,
    reason: '电子证照签发',
    signingTime: now,
  });
  const record: LicenceRecord = {
    id,
    typeId: type.id,
    typeCode: type.typeCode,
    issuerCode: seal.creditCode,
    issuerName: seal.organisation,
    serial: p.serial,
    version: p.version,
    data,
    holderName: data[type.holder.name]!,
    holderId: data[type.holder.id]!,
    validFrom: data[type.validity.from]!,
    validTo: data[type.validity.to]!,
    sha256: stamped.sha256Out,
    sealId: stamped.seal.id,
    sealName: seal.name,
    sealVersion: stamped.seal.version,
    certSerial: stamped.seal.certSerial,
    signedAt: stamped.signingTime.toISOString(),
    status: 'valid',
    issuedAt: now.toISOString(),
    issuedBy: actor,
    ownerClientId: p.ownerClientId,
    supersedes: p.supersedes?.id ?? null,
    supersededBy: null,
    revokedAt: null,
    revocationReason: null,
  };
  await deps.db.transaction(async (trx) => {
    if (p.supersedes) licenceChangedOnCommit(trx, p.supersedes.id);
    if (p.supersedes && !(await markLicenceSuperseded(trx, p.supersedes.id, id))) {
      throw new OneSealError('licence-not-current', 'conflict', `Licence ${p.supersedes.id} was changed or revoked meanwhile; nothing was issued.`);
    }
    await insertLicence(trx, record, stamped.pdf);
    await incrementSignatureCount(trx, stamped.seal.versionId);
    await appendAudit(trx, {
      actor,
      action: p.supersedes ? 'licence.change' : 'licence.issue',
      subject: id,
      details: { type: type.id, sha256: record.sha256, seal: stamped.seal, supersedes: record.supersedes },
    });
  });
  return record;
}

/** `actor` is the audit name of who issues; `ownerClientId` the system client it belongs to (null when a person issues). */
export async function issueLicence(deps: LicenceDeps, input: { type: unknown; data: unknown }, actor: string, ownerClientId: string | null = null): Promise<LicenceRecord> {
  const type = typeOf(deps, input.type);
  assertValidLicenceData(type, input.data);
  const seal = await issuingSeal(deps);
  // A serial lost to a failed render or signature is a gap, never a duplicate.
  const serial = await deps.db.transaction((trx) => allocateLicenceSerial(trx, type.typeCode, seal.creditCode));
  return produce(deps, { type, data: input.data, seal, serial: String(serial).padStart(8, '0'), version: 1, supersedes: null, ownerClientId }, actor);
}

function notCurrent(record: LicenceRecord, action: string): OneSealError {
  const why = record.status === 'superseded' ? `it was superseded by ${record.supersededBy}` : `it was revoked at ${record.revokedAt}`;
  return new OneSealError('licence-not-current', 'conflict', `Cannot ${action} licence ${record.id}: ${why}.`, {
    extra: { status: record.status, supersededBy: record.supersededBy },
  });
}

/** Issues version n+1 with new data (same serial, new identifier) and marks version n superseded. */
export async function changeLicence(deps: LicenceDeps, id: string, data: unknown, actor: string): Promise<LicenceRecord> {
  const old = await requireLicence(deps.db, id);
  if (old.status !== 'valid') throw notCurrent(old, 'change');
  const type = typeOf(deps, old.typeId);
  assertValidLicenceData(type, data);
  if (old.version >= MAX_VERSION) {
    throw new OneSealError('licence-version-limit', 'conflict', `Licence serial ${old.serial} has reached version ${MAX_VERSION}; issue a new licence instead.`);
  }
  const seal = await issuingSeal(deps);
  if (seal.creditCode !== old.issuerCode) {
    throw new OneSealError('licence-issuer-changed', 'conflict',
      `Licence ${id} was issued by ${old.issuerCode}, but seal "${seal.id}" now belongs to ${seal.creditCode}; issue a new licence instead.`);
  }
  return produce(deps, { type, data, seal, serial: old.serial, version: old.version + 1, supersedes: old, ownerClientId: old.ownerClientId }, actor);
}

export async function revokeLicence(deps: Pick<LicenceDeps, 'db'>, id: string, reason: unknown, actor: string): Promise<LicenceRecord> {
  if (typeof reason !== 'string' || reason.trim() === '' || [...reason].length > MAX_REASON_LENGTH) {
    throw new OneSealError('invalid-revocation', 'unprocessable', 'Give the reason for the revocation; it is shown on the public page.', {
      fields: [{ field: 'reason', message: `a text of 1 to ${MAX_REASON_LENGTH} characters` }],
    });
  }
  const at = new Date().toISOString();
  await deps.db.transaction(async (trx) => {
    licenceChangedOnCommit(trx, id);
    if (!(await markLicenceRevoked(trx, id, at, reason.trim()))) {
      const record = await getLicence(trx, id);
      throw record ? notCurrent(record, 'revoke') : licenceNotFound(id);
    }
    await appendAudit(trx, { actor, action: 'licence.revoke', subject: id, details: { reason: reason.trim() } });
  });
  return requireLicence(deps.db, id);
}

/** The full record, for those allowed to see the holder's personal data (src/access/policy.ts); maskedLicenceView for others. */
export function licenceView(publicUrl: string, r: LicenceRecord): Record<string, unknown> {
  return {
    id: r.id,
    type: r.typeId,
    status: effectiveStatus(r, chinaDate(new Date())),
    verifyUrl: verificationUrl(publicUrl, r.id),
    pdfUrl: `${publicUrl.replace(/\/+$/, '')}/v1/licences/${r.id}/pdf`,
    serial: r.serial,
    version: r.version,
    holder: { name: r.holderName, id: r.holderId },
    issuer: { name: r.issuerName, creditCode: r.issuerCode },
    validFrom: r.validFrom,
    validTo: r.validTo,
    issuedAt: r.issuedAt,
    signedAt: r.signedAt,
    seal: { id: r.sealId, name: r.sealName, version: r.sealVersion, certSerial: r.certSerial },
    sha256: r.sha256,
    supersedes: r.supersedes,
    supersededBy: r.supersededBy,
    revokedAt: r.revokedAt,
    revocationReason: r.revocationReason,
    data: r.data,
  };
}

/** The record as it may be shown without personal data: the holder as the public page shows it, no field values. */
export function maskedLicenceView(registry: LicenceTypeRegistry, publicUrl: string, r: LicenceRecord): Record<string, unknown> {
  const { data: _data, ...rest } = licenceView(publicUrl, r);
  return { ...rest, holder: publicHolder(registry.get(r.typeId), { name: r.holderName, id: r.holderId }), personalData: 'masked' };
}

/** What anyone may learn about a licence: no PDF, the holder masked when a person. */
export interface PublicLicenceStatus {
  id: string;
  status: LicenceStatus;
  type: { id: string; title: Bilingual };
  holder: PublicHolder;
  issuer: { name: string; creditCode: string };
  validFrom: string;
  validTo: string;
  issuedAt: string;
  signedAt: string;
  seal: { name: string; certSerial: string };
  supersedes: string | null;
  supersededBy: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
}

export function publicStatus(registry: LicenceTypeRegistry, record: LicenceRecord, now: Date = new Date()): PublicLicenceStatus {
  const type = registry.get(record.typeId);
  return {
    id: record.id,
    status: effectiveStatus(record, chinaDate(now)),
    type: { id: type.id, title: type.title },
    holder: publicHolder(type, { name: record.holderName, id: record.holderId }),
    issuer: { name: record.issuerName, creditCode: record.issuerCode },
    validFrom: record.validFrom,
    validTo: record.validTo,
    issuedAt: record.issuedAt,
    signedAt: record.signedAt,
    seal: { name: `${record.issuerName}${record.sealName}`, certSerial: record.certSerial },
    supersedes: record.supersedes,
    supersededBy: record.supersededBy,
    revokedAt: record.revokedAt,
    revocationReason: record.revocationReason,
  };
}

export interface CopyCheck {
  /** The upload is byte for byte the file OneSeal issued (same SHA-256). */
  identical: boolean;
  /** The verification engine's verdict on the upload's signatures; 'unreadable' when it is not a usable PDF. */
  verdict: Verdict | 'unreadable';
  /** Both: the holder has exactly this licence, with intact signatures. */
  genuine: boolean;
  sha256: string;
}

/** Compares an uploaded file with the issued licence and verifies its signatures against OneSeal's root. */
export async function checkLicenceCopy(deps: Pick<LicenceDeps, 'db'>, record: LicenceRecord, bytes: Uint8Array): Promise<CopyCheck> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let verdict: CopyCheck['verdict'];
  try {
    const report = await verifyPdf(bytes, await ownVerifyOptions(deps.db));
    verdict = report.verdict;
  } catch (e) {
    if (!(e instanceof OneSealError)) throw e;
    verdict = 'unreadable';
  }
  const identical = sha256 === record.sha256;
  return { identical, verdict, genuine: identical && verdict === 'valid', sha256 };
}
