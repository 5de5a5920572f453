/**
 * Pre-produced revocation data shared by every instance (migration 006): the signed OCSP response of
 * each certificate and the current CRL of each CA. Deciding what is fresh enough, and signing, is pki's job.
 */
import { bytes, int, mapper, text, type Codec } from './codec.js';
import type { Db } from './db.js';
import type { PkiRole } from './pki.js';

export interface CachedOcspResponse {
  serial: string;
  der: Uint8Array;
  /** The certificate status the response states. */
  status: 'good' | 'revoked';
  /** ISO times, whole seconds. */
  producedAt: string;
  nextUpdate: string;
}

export interface CachedCrl {
  der: Uint8Array;
  crlNumber: number;
  thisUpdate: string;
  nextUpdate: string;
}

const ocspRows = mapper<CachedOcspResponse>({
  serial: ['serial', text],
  der: ['der', bytes],
  status: ['status', text as Codec<'good' | 'revoked'>],
  producedAt: ['produced_at', text],
  nextUpdate: ['next_update', text],
});

const crlRows = mapper<CachedCrl>({
  der: ['der', bytes],
  crlNumber: ['crl_number', int],
  thisUpdate: ['this_update', text],
  nextUpdate: ['next_update', text],
});

export async function getCachedOcspResponses(db: Db, serials: readonly string[]): Promise<Map<string, CachedOcspResponse>> {
  if (serials.length === 0) return new Map();
  const rows = (await db('ocsp_responses').whereIn('serial', [...serials])).map(ocspRows.fromRow);
  return new Map(rows.map((r) => [r.serial, r]));
}

/**
 * Stores `response` unless the certificate's status changed since it was signed; false when it did.
 * Writing the certificate's row first takes its lock (PostgreSQL) or the write lock (SQLite), so a
 * revocation either commits before the status is read here, or waits and then deletes what was stored.
 */
export async function putCachedOcspResponse(db: Db, response: CachedOcspResponse): Promise<boolean> {
  return db.transaction(async (trx) => {
    await trx('issued_certificates').where({ serial: response.serial }).update({ status: trx.ref('status') });
    const row = await trx('issued_certificates').where({ serial: response.serial }).first('status');
    if (row?.status !== response.status) return false;
    await trx('ocsp_responses').insert(ocspRows.toRow(response)).onConflict('serial').merge();
    return true;
  });
}

export async function getCachedCrl(db: Db, ca: PkiRole): Promise<CachedCrl | undefined> {
  const row = await db('crl_state').where({ ca }).whereNotNull('der').first();
  return row ? crlRows.fromRow(row) : undefined;
}

/**
 * Locks the CA's CRL row for the rest of the transaction (creating it at number 0, so the first CRL
 * is number 1). The CRL's producer and a revocation both take it, so they run one after the other.
 */
async function lockCrlState(trx: Db, ca: PkiRole, clear: boolean): Promise<void> {
  await trx('crl_state')
    .insert({ ca, crl_number: 0 })
    .onConflict('ca')
    .merge(clear ? { der: null, this_update: null, next_update: null } : { crl_number: trx.ref('crl_state.crl_number') });
}

/** Locks the CA's CRL row in the producer's transaction; returns the CRL another producer stored meanwhile, if any. */
export async function lockCachedCrl(trx: Db, ca: PkiRole): Promise<CachedCrl | undefined> {
  await lockCrlState(trx, ca, false);
  return getCachedCrl(trx, ca);
}

/** Stores the CA's current CRL, in the transaction that took its number. */
export async function putCachedCrl(trx: Db, ca: PkiRole, crl: CachedCrl): Promise<void> {
  await trx('crl_state').where({ ca }).update(crlRows.toRow(crl));
}

/** In the revoking transaction: the certificate's OCSP response and its CA's CRL no longer hold. */
export async function dropRevocationData(trx: Db, serial: string, ca: PkiRole): Promise<void> {
  await trx('ocsp_responses').where({ serial }).delete();
  await lockCrlState(trx, ca, true);
}
