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
import { applyMergePatch } from '../standards/merge-patch.js';
import type { Stamper } from '../stamping/stamper.js';
import {
  allocateLicenceSerial,
  findCurrentByDuplicateKey,
  getLicence,
  insertLicence,
  releaseDuplicateKey,
  markLicenceRevoked,
  markLicenceSuperseded,
  type LicenceRecord,
  type StoredLicenceStatus,
} from '../store/licences.js';
import { getCentre, getItem } from '../store/items.js';
import { getSeal, incrementSignatureCount, type SealRecord } from '../store/seals.js';
import { assertPublicUrlSet, type PublicUrlSource } from '../public-url.js';
import { isUniqueViolation } from '../store/db.js';
import { together } from '../store/together.js';
import type { Handling } from '../items/handling.js';
import { licenceChangedOnCommit } from './record-cache.js';
import type { Report, Verdict } from '../verify/index.js';
import { publicHolder, type PublicHolder } from './masking.js';
import { LicenceTypeRegistry } from './registry.js';
import { verificationUrl } from './render.js';
import { licencePdf, type LicencePdf, type LicencePdfTask } from './licence-pdf.js';
import { activeLicenceQrSigner, type LicenceQrSigner } from '../pki/licence-qr.js';
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
  /**
   * Reads outside a transaction (the seal, the QR key, a first duplicate check): on SQLite its read
   * connection, so issuing does not queue them behind the writes of the licences in flight.
   */
  reads: Knex;
  stamper: Stamper;
  publicUrl: string;
  /** Where publicUrl came from: production issues nothing under a guessed address (src/public-url.ts). */
  publicUrlSource: PublicUrlSource;
  production: boolean;
  registry: LicenceTypeRegistry;
  /** Signs the QR payload (src/pki/licence-qr.ts); read per licence so a rotation applies at once. */
  qrSigner: () => Promise<LicenceQrSigner>;
}

let builtInTypes: LicenceTypeRegistry | undefined;

export function licenceDeps(services: Services): LicenceDeps {
  builtInTypes ??= LicenceTypeRegistry.load();
  return {
    db: services.store.db,
    reads: services.store.reads,
    stamper: services.stamper,
    publicUrl: services.config.publicUrl,
    publicUrlSource: services.publicUrlSource,
    production: services.config.production,
    registry: builtInTypes,
    qrSigner: () => activeLicenceQrSigner({ db: services.store.reads, hsm: services.hsm }),
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

/** The seal that issues a type when the request names none. */
export function defaultLicenceSeal(type: LicenceType): string {
  return type.issuingSeal ?? LICENCE_SEAL_ID;
}

async function issuingSeal(deps: LicenceDeps, sealId: string, chosen: boolean): Promise<SealRecord> {
  const seal = await getSeal(deps.reads, sealId);
  if (!seal && chosen) {
    throw new OneSealError('seal-not-found', 'unprocessable', `There is no seal "${sealId}" to issue the licence with.`, { fields: [{ field: 'seal', message: `no seal "${sealId}"` }] });
  }
  if (!seal) {
    throw new OneSealError('licence-seal-missing', 'unavailable', `The seal "${sealId}" that issues licences does not exist; run \`oneseal init\`.`);
  }
  return seal;
}

/**
 * The issue date is the day the version is issued (China time): what the issuer block prints, what the
 * record's issuedAt and the public page show. A type's issue-date field is filled with it; a value the
 * client gives must be that day (or, for a change, the previous version's, which a client copies along).
 */
function withIssueDate(type: LicenceType, data: unknown, today: string, accepted: readonly string[]): unknown {
  if (!type.issueDate || typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const given = (data as Record<string, unknown>)[type.issueDate];
  if (given !== undefined && given !== null && given !== '' && !accepted.includes(String(given))) {
    const def = type.fields.find((f) => f.name === type.issueDate)!;
    throw new OneSealError('invalid-licence-data', 'unprocessable', `${def.label.zh} (${def.label.en}) is the day of issue, ${today}: leave it out and OneSeal fills it in.`, {
      fields: [{ field: type.issueDate, message: `${def.label.zh} (${def.label.en}): is set by OneSeal to the day of issue (${today}); "${String(given)}" was given` }],
    });
  }
  return { ...data, [type.issueDate]: today };
}

/** A licence whose validity ended before today is refused unless the caller says it means it (e.g. recording a past one). */
function checkNotExpired(type: LicenceType, data: LicenceData, today: string, allowExpired: boolean): void {
  const to = data[type.validity.to]!;
  if (allowExpired || to === LONG_TERM || to >= today) return;
  const def = type.fields.find((f) => f.name === type.validity.to)!;
  throw new OneSealError('licence-already-expired', 'unprocessable',
    `${def.label.zh} (${def.label.en}) ${to} is already past (today is ${today} in China): the licence would be expired when issued. Send "allowExpired": true if that is intended.`,
    { fields: [{ field: type.validity.to, message: `${to} is before today (${today}); set allowExpired to issue it anyway` }] });
}

/** The type's duplicate key of `data` (field values joined), or null when the type has no duplicate check. */
export function duplicateKeyOf(type: LicenceType, data: LicenceData): string | null {
  return type.duplicateKey ? type.duplicateKey.map((f) => data[f] ?? '').join('\u001f') : null;
}

function duplicateError(type: LicenceType, current: LicenceRecord): OneSealError {
  const fields = (type.duplicateKey ?? []).map((f) => type.fields.find((d) => d.name === f)!);
  const what = fields.map((d) => `${d.label.zh} (${d.label.en})`).join(', ');
  return new OneSealError('licence-duplicate', 'conflict',
    `A current ${type.title.zh} (${type.id}) with the same ${what} already exists: ${current.id}. Change that licence (a new version) or revoke it first.`,
    { fields: fields.map((d) => ({ field: d.name, message: `already on the current licence ${current.id}` })), extra: { current: current.id } });
}

/**
 * The current licence holding `key`, other than `except`, looked up through `read`. One whose validity
 * has ended is no longer current: its key is released through `write` (the caller's transaction, if
 * any) so the holder can be issued a new one.
 */
async function currentHolder(read: Knex | Knex.Transaction, write: Knex | Knex.Transaction, type: LicenceType, key: string, except: string | null, today: string): Promise<LicenceRecord | undefined> {
  const holder = await findCurrentByDuplicateKey(read, type.id, key);
  if (!holder || holder.id === except) return undefined;
  if (effectiveStatus(holder, today) === 'expired') {
    await releaseDuplicateKey(write, holder.id);
    return undefined;
  }
  return holder;
}

interface Production {
  type: LicenceType;
  data: LicenceData;
  /** The moment of issue: the signing time, the record's issuedAt and (as a China date) the printed issue date. */
  now: Date;
  seal: SealRecord;
  serial: string;
  version: number;
  supersedes: LicenceRecord | null;
  /** The system client the licence belongs to: its issuer, kept through later versions. */
  ownerClientId: string | null;
  /** The item and who handled it, when the request named an item. */
  handling: Handling | null;
  /** The approval case it was issued in (kept through later versions), for archive packages. */
  caseNumber: string | null;
}

/**
 * Refuses a licence whose duplicate key a current one (other than `except`) holds. Checked before the
 * serial and the signature so a duplicate costs neither; the check in produce's transaction and the
 * unique index decide a race.
 */
async function refuseDuplicate(deps: LicenceDeps, type: LicenceType, data: LicenceData, except: string | null, today: string): Promise<void> {
  const key = duplicateKeyOf(type, data);
  const holder = key === null ? undefined : await currentHolder(deps.reads, deps.db, type, key, except, today);
  if (holder) throw duplicateError(type, holder);
}

/** Renders, seals and records one licence version (and the supersession of the previous one) in one transaction. */
async function produce(deps: LicenceDeps, p: Production, actor: string): Promise<LicenceRecord> {
  const { type, data, seal, now } = p;
  assertPublicUrlSet(deps, deps.publicUrlSource);
  const id = buildLicenceId({ typeCode: type.typeCode, issuer: seal.creditCode, serial: p.serial, version: String(p.version).padStart(3, '0') });
  const duplicateKey = duplicateKeyOf(type, data);
  const today = chinaDate(now);
  const signer = await deps.qrSigner();
  const shown = publicHolder(type, { name: data[type.holder.name]!, id: data[type.holder.id]! });
  const task: LicencePdfTask = {
    render: { type, data, licenceId: id, issuer: { name: seal.organisation, creditCode: seal.creditCode }, issuedOn: today, publicBaseUrl: deps.publicUrl },
    now,
    payload: {
      id, type: type.typeCode, holder: shown.name, holderId: shown.id, issuer: seal.creditCode, version: p.version,
      validFrom: data[type.validity.from]!, validTo: data[type.validity.to]!, issuedAt: Math.floor(now.getTime() / 1000), pdf: new Uint8Array(32),
    },
    kid: signer.kid,
  };
  // In the server the rendering runs in a worker thread, beside the stamps, so that every core works.
  const pool = deps.stamper.pool;
  const licence = pool
    ? (await pool.run<LicencePdf>('licence', task, { calls: { sign: (toBeSigned: Uint8Array) => signer.sign(toBeSigned) } })).value
    : await licencePdf(task, (toBeSigned) => signer.sign(toBeSigned));
  const r = licence.sealRect;
  const stamped = await deps.stamper.stamp(licence.pdf, {
    sealId: seal.id,
    // Fitted into the layout's seal square, so a seal larger than the type allows (a 42 mm seal on a 居住证 card) stays inside the frame.
    placement: { kind: 'box', page: r.page, x: r.x, y: r.y, width: r.width, height: r.height },
    level: 'B-LT',
    // DocMDP 2: holders may still fill forms and add their own signatures; any other change breaks it.
    certify: 2,
    reason: p.handling?.reason ?? '电子证照签发',
    ...(p.handling ? { location: p.handling.location } : {}),
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
    itemCode: p.handling?.item.code ?? null,
    centreCode: p.handling?.centre?.code ?? null,
    caseNumber: p.caseNumber,
    supersedes: p.supersedes?.id ?? null,
    supersededBy: null,
    revokedAt: null,
    revocationReason: null,
  };
  try {
    await deps.db.transaction(async (trx) => {
      // A write first: on SQLite a transaction that reads and then writes fails with SQLITE_BUSY when another
      // process (another instance renewing its lease, a CLI) wrote in between; writing first waits for the lock instead.
      await incrementSignatureCount(trx, stamped.seal.versionId);
      if (p.supersedes) licenceChangedOnCommit(trx, p.supersedes.id);
      // The version superseded here is no holder: its update and this read go together, in either order.
      const [superseded, holder] = await together(
        trx,
        async () => (p.supersedes ? markLicenceSuperseded(trx, p.supersedes.id, id) : true),
        async () => (duplicateKey === null ? undefined : currentHolder(trx, trx, type, duplicateKey, p.supersedes?.id ?? null, today)),
      );
      if (!superseded) {
        throw new OneSealError('licence-not-current', 'conflict', `Licence ${p.supersedes!.id} was changed or revoked meanwhile; nothing was issued.`);
      }
      if (holder) throw duplicateError(type, holder);
      // The audit tip last (on PostgreSQL `together` runs them in the order given), as a seal's rotation
      // and a licence's revocation take it after their own rows: the other order could deadlock with them.
      await together(trx, () => insertLicence(trx, record, stamped.pdf, duplicateKey), () => appendAudit(trx, {
        actor,
        action: p.supersedes ? 'licence.change' : 'licence.issue',
        subject: id,
        details: { type: type.id, sha256: record.sha256, seal: stamped.seal, supersedes: record.supersedes, ...(record.itemCode ? { item: record.itemCode, centre: record.centreCode } : {}) },
      }));
    });
  } catch (e) {
    // Another issue for the same holder committed between the check and the insert: the index refused this one.
    const holder = duplicateKey !== null && isUniqueViolation(e) ? await findCurrentByDuplicateKey(deps.db, type.id, duplicateKey) : undefined;
    throw holder ? duplicateError(type, holder) : e;
  }
  return record;
}

/** The item must issue this type of licence. */
function checkItemIssues(handling: Handling | null, type: LicenceType): void {
  if (handling && handling.item.licenceType !== type.id) {
    throw new OneSealError('item-licence-type-mismatch', 'unprocessable',
      `Item ${handling.item.code} (${handling.item.name}) issues ${handling.item.licenceType ? `"${handling.item.licenceType}" licences` : 'no licence'}, not "${type.id}".`,
      { fields: [{ field: 'itemCode', message: `does not issue "${type.id}"` }] });
  }
}

export interface IssueOptions {
  /** The system client the licence belongs to (null when a person issues). */
  ownerClientId?: string | null;
  /** Another seal than the type's default; the caller has checked the actor may use it (authorizeIssuingSeal). */
  sealId?: string;
  /** Issue even though the validity already ended. */
  allowExpired?: boolean;
  /** The item and handling centre (src/items/handling.ts), when the request named an item. */
  handling?: Handling | null;
}

/** `actor` is the audit name of who issues. */
export async function issueLicence(deps: LicenceDeps, input: { type: unknown; data: unknown; caseNumber?: unknown }, actor: string, options: IssueOptions = {}): Promise<LicenceRecord> {
  const type = typeOf(deps, input.type);
  checkItemIssues(options.handling ?? null, type);
  const caseNumber = input.caseNumber ?? null;
  if (caseNumber !== null && (typeof caseNumber !== 'string' || !/^[^\x00-\x1f\x7f]{1,64}$/.test(caseNumber))) {
    throw new OneSealError('invalid-case-number', 'unprocessable', 'caseNumber must be 1 to 64 characters without control characters.', { fields: [{ field: 'caseNumber', message: 'not a case number' }] });
  }
  const now = new Date();
  const today = chinaDate(now);
  const data = withIssueDate(type, input.data, today, [today]);
  assertValidLicenceData(type, data);
  checkNotExpired(type, data, today, options.allowExpired ?? false);
  const seal = await issuingSeal(deps, options.sealId ?? defaultLicenceSeal(type), options.sealId !== undefined);
  // A duplicate takes no serial. A serial lost to a failed render or signature, or to a duplicate issued
  // meanwhile (refused in produce's transaction), is a gap, never a duplicate: the allocation is one statement.
  await refuseDuplicate(deps, type, data, null, today);
  const serial = await allocateLicenceSerial(deps.db, type.typeCode, seal.creditCode);
  return produce(deps, {
    type, data, now, seal, serial: String(serial).padStart(8, '0'), version: 1, supersedes: null, ownerClientId: options.ownerClientId ?? null, handling: options.handling ?? null, caseNumber,
  }, actor);
}

function notCurrent(record: LicenceRecord, action: string): OneSealError {
  const why = record.status === 'superseded' ? `it was superseded by ${record.supersededBy}` : `it was revoked at ${record.revokedAt}`;
  return new OneSealError('licence-not-current', 'conflict', `Cannot ${action} licence ${record.id}: ${why}.`, {
    extra: { status: record.status, supersededBy: record.supersededBy },
  });
}

/**
 * Issues version n+1 with new data (same serial, new identifier, same seal) and marks version n superseded.
 * `data` is the whole new data or, with `mergePatch`, a JSON merge patch (RFC 7396) of the version changed; `handling` the item
 * and who handles this version.
 */
export async function changeLicence(
  deps: LicenceDeps, id: string, newData: unknown, actor: string, options: { allowExpired?: boolean; mergePatch?: boolean; handling?: Handling | null } = {},
): Promise<LicenceRecord> {
  const old = await requireLicence(deps.db, id);
  if (old.status !== 'valid') throw notCurrent(old, 'change');
  const type = typeOf(deps, old.typeId);
  checkItemIssues(options.handling ?? null, type);
  const now = new Date();
  const today = chinaDate(now);
  const given = options.mergePatch ? applyMergePatch(old.data, newData) : newData;
  const data = withIssueDate(type, given, today, [today, ...(type.issueDate && old.data[type.issueDate] ? [old.data[type.issueDate]!] : [])]);
  assertValidLicenceData(type, data);
  checkNotExpired(type, data, today, options.allowExpired ?? false);
  if (old.version >= MAX_VERSION) {
    throw new OneSealError('licence-version-limit', 'conflict', `Licence serial ${old.serial} has reached version ${MAX_VERSION}; issue a new licence instead.`);
  }
  const seal = await issuingSeal(deps, old.sealId, false);
  if (seal.creditCode !== old.issuerCode) {
    throw new OneSealError('licence-issuer-changed', 'conflict',
      `Licence ${id} was issued by ${old.issuerCode}, but seal "${seal.id}" now belongs to ${seal.creditCode}; issue a new licence instead.`);
  }
  await refuseDuplicate(deps, type, data, old.id, today);
  return produce(deps, { type, data, now, seal, serial: old.serial, version: old.version + 1, supersedes: old, ownerClientId: old.ownerClientId, handling: options.handling ?? null, caseNumber: old.caseNumber }, actor);
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
    issuedOn: chinaDate(new Date(r.issuedAt)),
    issuedAt: r.issuedAt,
    signedAt: r.signedAt,
    seal: { id: r.sealId, name: r.sealName, version: r.sealVersion, certSerial: r.certSerial },
    sha256: r.sha256,
    itemCode: r.itemCode,
    centre: r.centreCode,
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
  /** The issue date (China), as printed on the licence: the day of issuedAt. */
  issuedOn: string;
  issuedAt: string;
  signedAt: string;
  seal: { name: string; certSerial: string };
  /** The item and the centre that handled it on the issuer's behalf (null: the issuer itself). */
  handling: LicenceHandling | null;
  supersedes: string | null;
  supersededBy: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
}

export interface LicenceHandling {
  item: { code: string; name: string };
  centre: { code: string; name: string } | null;
}

/** The item and handling centre of a licence as the public sees them (names as they are now). */
export async function licenceHandling(db: Knex, record: Pick<LicenceRecord, 'itemCode' | 'centreCode'>): Promise<LicenceHandling | null> {
  if (!record.itemCode) return null;
  const item = await getItem(db, record.itemCode);
  const centre = record.centreCode ? await getCentre(db, record.centreCode) : undefined;
  return {
    item: { code: record.itemCode, name: item?.name ?? record.itemCode },
    centre: record.centreCode ? { code: record.centreCode, name: centre?.name ?? record.centreCode } : null,
  };
}

export function publicStatus(registry: LicenceTypeRegistry, record: LicenceRecord, now: Date = new Date(), handling: LicenceHandling | null = null): PublicLicenceStatus {
  const type = registry.get(record.typeId);
  return {
    id: record.id,
    status: effectiveStatus(record, chinaDate(now)),
    type: { id: type.id, title: type.title },
    holder: publicHolder(type, { name: record.holderName, id: record.holderId }),
    issuer: { name: record.issuerName, creditCode: record.issuerCode },
    validFrom: record.validFrom,
    validTo: record.validTo,
    issuedOn: chinaDate(new Date(record.issuedAt)),
    issuedAt: record.issuedAt,
    signedAt: record.signedAt,
    seal: { name: `${record.issuerName}${record.sealName}`, certSerial: record.certSerial },
    handling,
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

/**
 * Compares an uploaded file with the issued licence and verifies its signatures (`verify`: against
 * OneSeal's root, see Verifier). Only a file the engine cannot read is 'unreadable'; a time-out or a
 * failing worker is the caller's error.
 */
export async function checkLicenceCopy(verify: (bytes: Uint8Array) => Promise<Report>, record: LicenceRecord, bytes: Uint8Array): Promise<CopyCheck> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let verdict: CopyCheck['verdict'];
  try {
    const report = await verify(bytes);
    verdict = report.verdict;
  } catch (e) {
    if (!(e instanceof OneSealError) || e.kind !== 'unprocessable') throw e;
    verdict = 'unreadable';
  }
  const identical = sha256 === record.sha256;
  return { identical, verdict, genuine: identical && verdict === 'valid', sha256 };
}
