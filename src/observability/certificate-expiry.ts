/**
 * Which of OneSeal's certificates run out soon: the seals' active versions and the CA's own (root,
 * TSA, OCSP). An expired one fails the health check (stamps made with it would not validate); one
 * within WARN_DAYS is a warning, time enough to rotate.
 */
import { toCertificate } from '../pki/der.js';
import type { Services } from '../services.js';
import { activeSealVersion, listSeals } from '../store/seals.js';

export const WARN_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export interface ExpiringCertificate {
  /** "seal approval v1", "root", "tsa", "ocsp" */
  name: string;
  notAfter: Date;
}

export interface ExpiryCheck {
  ok: boolean;
  /** True when something expires within WARN_DAYS (the check still passes). */
  warn?: boolean;
  detail: string;
}

/** Pure: the verdict on a list of certificates at `now`. */
export function checkExpiry(certs: readonly ExpiringCertificate[], now: Date): ExpiryCheck {
  const expired = certs.filter((c) => c.notAfter.getTime() <= now.getTime());
  const soon = certs.filter((c) => !expired.includes(c) && c.notAfter.getTime() - now.getTime() < WARN_DAYS * DAY_MS);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  if (expired.length > 0) {
    return { ok: false, detail: `expired: ${expired.map((c) => `${c.name} (${day(c.notAfter)})`).join(', ')}; rotate or renew them` };
  }
  if (soon.length > 0) {
    const left = (c: ExpiringCertificate) => Math.floor((c.notAfter.getTime() - now.getTime()) / DAY_MS);
    return { ok: true, warn: true, detail: `expiring within ${WARN_DAYS} days: ${soon.map((c) => `${c.name} in ${left(c)} days (${day(c.notAfter)})`).join(', ')}` };
  }
  const first = [...certs].sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime())[0];
  return { ok: true, detail: first ? `${certs.length} certificates; first to expire: ${first.name} on ${day(first.notAfter)}` : 'no certificates' };
}

/** By the bytes held: the CA's own certificates stay the same objects for the life of the services, and each probe asks again. */
const parsedNotAfter = new WeakMap<Uint8Array, Date>();

function notAfterOf(der: Uint8Array): Date {
  let notAfter = parsedNotAfter.get(der);
  if (!notAfter) parsedNotAfter.set(der, (notAfter = toCertificate(der).notAfter.value));
  return notAfter;
}

export async function serviceCertificates(services: Pick<Services, 'store' | 'authority'>): Promise<ExpiringCertificate[]> {
  const { root, tsa, ocsp } = services.authority;
  const certs: ExpiringCertificate[] = [
    { name: 'root', notAfter: notAfterOf(root.certificate) },
    { name: 'tsa', notAfter: notAfterOf(tsa.certificate) },
    { name: 'ocsp', notAfter: notAfterOf(ocsp.certificate) },
  ];
  const { db } = services.store;
  for (const seal of await listSeals(db)) {
    const v = await activeSealVersion(db, seal.id);
    const notAfter = v?.notAfter ? new Date(v.notAfter) : v?.certificate ? notAfterOf(v.certificate) : undefined;
    if (v && notAfter) certs.push({ name: `seal ${seal.id} v${v.version}`, notAfter });
  }
  return certs;
}
