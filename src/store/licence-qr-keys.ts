/** The licence-QR signing keys and their certificates (migration 009). */
import { bytes, mapper, nullable, text, type Codec } from './codec.js';
import type { Db } from './db.js';

export interface LicenceQrKeyRecord {
  /** Hex of the 8-byte COSE kid. */
  kid: string;
  /** CKA_ID in the HSM, hex. */
  keyId: string;
  /** DER. */
  certificate: Uint8Array;
  certSerial: string;
  status: 'active' | 'retired';
  createdAt: string;
  retiredAt: string | null;
}

const keys = mapper<LicenceQrKeyRecord>({
  kid: ['kid', text],
  keyId: ['key_id', text],
  certificate: ['certificate', bytes],
  certSerial: ['cert_serial', text],
  status: ['status', text as Codec<'active' | 'retired'>],
  createdAt: ['created_at', text],
  retiredAt: ['retired_at', nullable(text)],
});

export async function activeLicenceQrKey(db: Db): Promise<LicenceQrKeyRecord | undefined> {
  const row = await db('licence_qr_keys').where({ status: 'active' }).first();
  return row ? keys.fromRow(row) : undefined;
}

export async function listLicenceQrKeys(db: Db): Promise<LicenceQrKeyRecord[]> {
  return (await db('licence_qr_keys').orderBy('created_at')).map(keys.fromRow);
}

export async function insertLicenceQrKey(db: Db, record: LicenceQrKeyRecord): Promise<void> {
  await db('licence_qr_keys').insert(keys.toRow(record));
}

/** Retires the active key; false when there was none (so a concurrent rotation is noticed). */
export async function retireActiveLicenceQrKey(db: Db, at: string): Promise<boolean> {
  return (await db('licence_qr_keys').where({ status: 'active' }).update({ status: 'retired', retired_at: at })) > 0;
}
