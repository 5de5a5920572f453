/** What the signed licence status list says: every licence that is no longer current. */
import type { Db } from './db.js';

export interface EndedLicence {
  id: string;
  status: 'revoked' | 'superseded';
  /** When it was revoked, or when the version that superseded it was issued. */
  at: string;
  supersededBy: string | null;
}

export async function listEndedLicences(db: Db): Promise<EndedLicence[]> {
  const rows = (await db('licences as l')
    .leftJoin('licences as n', 'n.id', 'l.superseded_by')
    .whereNot('l.status', 'valid')
    .orderBy('l.id')
    .select('l.id', 'l.status', 'l.revoked_at', 'l.superseded_by', 'n.issued_at as successor_issued_at')) as Array<Record<string, string | null>>;
  return rows.map((r) => ({
    id: r.id!,
    status: r.status as EndedLicence['status'],
    at: (r.status === 'revoked' ? r.revoked_at : r.successor_issued_at) ?? '',
    supersededBy: r.superseded_by ?? null,
  }));
}
