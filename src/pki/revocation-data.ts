/**
 * Revocation data produced ahead and reused (RFC 5019): one signed OCSP response per certificate the
 * root issued and one CRL per period, kept in the database so every instance serves the same objects.
 * A revocation drops them in its own transaction (store/pki.ts); the next reader, on any instance,
 * signs the replacement. Production is shared: concurrent readers on one instance wait for one signing.
 */
import type { Knex } from 'knex';
import { getIssuedCertificate, listRevokedCertificates, nextCrlNumber, revocationsCommittedHere } from '../store/pki.js';
import {
  getCachedCrl,
  getCachedOcspResponses,
  lockCachedCrl,
  putCachedCrl,
  putCachedOcspResponse,
  type CachedCrl,
  type CachedOcspResponse,
} from '../store/revocation-cache.js';
import { createCrl } from './crl.js';
import { parsedOnce, wholeSeconds } from './der.js';
import { certIdFor, createOcspResponse, type OcspCertId, type OcspResponder, type OcspStatus } from './ocsp.js';
import type { RevocationReason } from './revocation.js';
import type { PkiDeps } from './services.js';

const HOUR_MS = 3600 * 1000;
/** CRLs and OCSP responses promise fresh information within a day (their nextUpdate). */
export const REVOCATION_VALIDITY_MS = 24 * HOUR_MS;
/**
 * Replaced this long before their nextUpdate, so a relying party that fetched one late still holds
 * valid data for an hour; until then (or a revocation) the same signed object is served.
 */
export const REFRESH_BEFORE_MS = HOUR_MS;

export interface CrlSnapshot {
  der: Uint8Array;
  crlNumber: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

const nowOf = (deps: PkiDeps): Date => deps.clock?.() ?? new Date();
const servable = (nextUpdate: string, now: Date): boolean => now.getTime() < Date.parse(nextUpdate) - REFRESH_BEFORE_MS;

/** What the store knows about a serial the root issued. */
export async function statusOf(deps: PkiDeps, serial: string): Promise<OcspStatus> {
  const record = await getIssuedCertificate(deps.store.db, serial);
  if (!record || record.issuerRole !== 'root') return { status: 'unknown' };
  if (record.status === 'good') return { status: 'good' };
  return { status: 'revoked', revokedAt: new Date(record.revokedAt!), ...(record.reason ? { reason: record.reason as RevocationReason } : {}) };
}

// In-flight productions per database (tests and tools open several stores in one process).
const ocspInFlight = new WeakMap<Knex, Map<string, { producedAt: number; response: Promise<CachedOcspResponse | undefined> }>>();
const crlInFlight = new WeakMap<Knex, Promise<CrlSnapshot>>();

/** The delegated OCSP responder: its key in the HSM and its certificate, parsed once. */
export function ocspResponder(deps: PkiDeps): OcspResponder {
  return { cert: parsedOnce(deps.authority.ocsp.certificate), signer: deps.authority.ocsp.signer };
}

/** The root's CertID of `serial` (SHA-1, as RFC 5019 clients ask). */
export function rootCertId(deps: PkiDeps, serial: string): OcspCertId {
  return certIdFor(parsedOnce(deps.authority.root.certificate), serial);
}

const usable = (response: CachedOcspResponse | undefined, now: Date, floor: number): response is CachedOcspResponse =>
  response !== undefined && servable(response.nextUpdate, now) && Date.parse(response.producedAt) >= floor;

/**
 * Signs the response for `serial` as the store has it now and caches it, unless a revocation overtook the
 * signing (then again). First asks the writing connection for one stored meanwhile, produced in this
 * second or later (what a new one would be, so whoever shares this production gets data as fresh as it
 * asked for): a reader whose look at the read connection came just before another production committed
 * finds that production's flight ended, and would otherwise sign a second response for the same second.
 */
async function produceOcsp(deps: PkiDeps, serial: string, now: Date): Promise<CachedOcspResponse | undefined> {
  const stored = (await getCachedOcspResponses(deps.store.db, [serial])).get(serial);
  if (usable(stored, now, wholeSeconds(now).getTime())) return stored;
  for (;;) {
    const status = await statusOf(deps, serial);
    if (status.status === 'unknown') return undefined;
    const producedAt = wholeSeconds(now);
    const nextUpdate = new Date(producedAt.getTime() + REVOCATION_VALIDITY_MS);
    const der = await createOcspResponse({
      certIds: [rootCertId(deps, serial)],
      issuer: parsedOnce(deps.authority.root.certificate),
      responder: ocspResponder(deps),
      lookup: () => status,
      producedAt,
      nextUpdate,
    });
    deps.metrics?.revocationSigned.inc({ kind: 'ocsp' });
    const response: CachedOcspResponse = { serial, der, status: status.status, producedAt: producedAt.toISOString(), nextUpdate: nextUpdate.toISOString() };
    if (await putCachedOcspResponse(deps.store.db, response)) return response;
  }
}

/** One production per serial at a time on this instance; a waiter takes it if it is recent enough for them. */
function sharedProduction(deps: PkiDeps, serial: string, notBefore: number, now: Date): Promise<CachedOcspResponse | undefined> {
  const db = deps.store.db;
  let flights = ocspInFlight.get(db);
  if (!flights) ocspInFlight.set(db, (flights = new Map()));
  const flight = flights.get(serial);
  if (flight && flight.producedAt >= notBefore) return flight.response;
  const entry = { producedAt: wholeSeconds(now).getTime(), response: produceOcsp(deps, serial, now) };
  flights.set(serial, entry);
  void entry.response.finally(() => {
    if (flights.get(serial) === entry) flights.delete(serial);
  }).catch(() => undefined);
  return entry.response;
}

/**
 * For B-LT stamps: what was last read of the stored responses and CRL is used again for up to a
 * second, unless this process committed a revocation since. Reading them for every stamp (two
 * queries on the one read connection) halved the B-LT rate. A revocation committed elsewhere (another
 * instance, a CLI command) reaches this process's stamps within that second, as seal changes do within
 * SIGNING_MATERIAL_TTL_MS; the OCSP endpoint and the CRL served over HTTP read the database every time.
 */
export const RECENT_READ_MS = 1000;

interface RecentRead<T> {
  value: T;
  readAt: number;
  revocations: number;
}

const recentOcsp = new WeakMap<Knex, Map<string, RecentRead<CachedOcspResponse | undefined>>>();
const recentCrl = new WeakMap<Knex, RecentRead<CachedCrl | undefined>>();

function stillRecent<T>(read: RecentRead<T> | undefined, now: Date): read is RecentRead<T> {
  const age = read ? now.getTime() - read.readAt : -1;
  return read !== undefined && age >= 0 && age < RECENT_READ_MS && read.revocations === revocationsCommittedHere();
}

/** The stored responses of `serials`; with `recent`, from the last read when each is recent and still usable. */
async function storedOcsp(deps: PkiDeps, serials: readonly string[], now: Date, floor: number, recent: boolean): Promise<Map<string, CachedOcspResponse>> {
  let kept = recentOcsp.get(deps.store.db);
  if (!kept) recentOcsp.set(deps.store.db, (kept = new Map()));
  if (recent) {
    const reusable = serials.flatMap((serial) => {
      const read = kept.get(serial);
      return stillRecent(read, now) && usable(read.value, now, floor) ? [read.value] : [];
    });
    if (reusable.length === serials.length) return new Map(reusable.map((response) => [response.serial, response]));
  }
  const revocations = revocationsCommittedHere();
  // On the read connection: every B-LT stamp asks, and on SQLite's one writing connection each ask
  // would queue behind the transactions of the stamps and licences in flight.
  const stored = await getCachedOcspResponses(deps.store.reads, serials);
  for (const serial of serials) kept.set(serial, { value: stored.get(serial), readAt: now.getTime(), revocations });
  return stored;
}

/**
 * The OCSP responses (DER) for serials the root issued, keyed by serial: the cached ones while they
 * are servable and produced no earlier than `notBefore` (whole seconds, as producedAt is written),
 * else new ones. Serials the root never issued are left out. `recent`: see RECENT_READ_MS.
 */
export async function ocspResponses(deps: PkiDeps, serials: readonly string[], notBefore?: Date, options: { recent?: boolean } = {}): Promise<Map<string, Uint8Array>> {
  const now = nowOf(deps);
  const floor = notBefore ? wholeSeconds(notBefore).getTime() : -Infinity;
  const cached = await storedOcsp(deps, serials, now, floor, options.recent ?? false);
  const out = new Map<string, Uint8Array>();
  await Promise.all(
    serials.map(async (serial) => {
      const hit = cached.get(serial);
      const response = usable(hit, now, floor) ? hit : await sharedProduction(deps, serial, floor, now);
      if (response) out.set(serial, response.der);
    }),
  );
  return out;
}

const snapshotOf = (c: CachedCrl): CrlSnapshot => ({ der: c.der, crlNumber: c.crlNumber, thisUpdate: new Date(c.thisUpdate), nextUpdate: new Date(c.nextUpdate) });

/** The stored CRL; with `recent`, from the last read when it is recent (RECENT_READ_MS). */
async function storedCrl(deps: PkiDeps, now: Date, recent: boolean): Promise<CachedCrl | undefined> {
  const last = recentCrl.get(deps.store.db);
  if (recent && stillRecent(last, now) && last.value && servable(last.value.nextUpdate, now)) return last.value;
  const revocations = revocationsCommittedHere();
  const stored = await getCachedCrl(deps.store.reads, 'root');
  recentCrl.set(deps.store.db, { value: stored, readAt: now.getTime(), revocations });
  return stored;
}

/**
 * The root's current CRL: the stored one until an hour before its nextUpdate or a revocation, else a
 * new one. `recent`: see RECENT_READ_MS.
 */
export async function currentCrl(deps: PkiDeps, options: { recent?: boolean } = {}): Promise<CrlSnapshot> {
  const now = nowOf(deps);
  const cached = await storedCrl(deps, now, options.recent ?? false);
  if (cached && servable(cached.nextUpdate, now)) return snapshotOf(cached);
  const db = deps.store.db;
  const inFlight = crlInFlight.get(db);
  if (inFlight) return inFlight;
  const crl = issueCrl(deps, now).finally(() => crlInFlight.delete(db));
  crlInFlight.set(db, crl);
  return crl;
}

async function issueCrl(deps: PkiDeps, now: Date): Promise<CrlSnapshot> {
  const root = deps.authority.root;
  // Lock, number, list, signature and the stored copy in one transaction: a failed signing skips no
  // number, a revocation waits for it (and then drops it) or is in the list, and another instance
  // that got here first is reused instead of signing again.
  return deps.store.db.transaction(async (trx) => {
    const other = await lockCachedCrl(trx, 'root');
    if (other && servable(other.nextUpdate, now)) return snapshotOf(other);
    const crlNumber = await nextCrlNumber(trx, 'root');
    const revoked = await listRevokedCertificates(trx, 'root');
    const thisUpdate = wholeSeconds(now);
    const nextUpdate = new Date(thisUpdate.getTime() + REVOCATION_VALIDITY_MS);
    const der = await createCrl({
      issuer: { cert: root.certificate, signer: root.signer },
      revoked: revoked.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt!), ...(r.reason ? { reason: r.reason as RevocationReason } : {}) })),
      thisUpdate,
      nextUpdate,
      crlNumber,
    });
    deps.metrics?.revocationSigned.inc({ kind: 'crl' });
    await putCachedCrl(trx, 'root', { der, crlNumber, thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString() });
    return { der, crlNumber, thisUpdate, nextUpdate };
  });
}
