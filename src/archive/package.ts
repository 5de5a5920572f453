/**
 * `archive export` and GET /v1/archive: a case (or one stamp or licence) as an ASiC-E package for the
 * archive or a court — each document in its newest copy, its validation report (JSON and a printable
 * PDF), the audit entries about it with the hash-chain proof up to a signed head, the case metadata,
 * the manifest and its CAdES signature by the archive key. The export itself is audited first, so
 * the package's proof covers its own making.
 */
import type { Actor } from '../access/actors.js';
import { actorLabel } from '../access/actors.js';
import { authorize } from '../access/policy.js';
import { appendAudit } from '../audit/chain.js';
import { canonicalJson } from '../audit/canonical-json.js';
import type { Config } from '../config.js';
import { OneSealError } from '../errors.js';
import { localTimestamper } from '../pki/services.js';
import type { Services } from '../services.js';
import type { ArchivedKind } from '../store/archive.js';
import { zip } from '../zip/write.js';
import { ASIC_MIMETYPE, MANIFEST_NAME, SIGNATURE_NAME, manifestXml, signDetached } from './asic.js';
import { buildAuditProof } from './audit-proof.js';
import { raiseToLta } from './raise.js';
import { renewDeps } from './renew.js';
import { reportPdf } from './report-pdf.js';

export type ExportSelector = { case: string } | { stamp: string } | { licence: string };

/** Exactly one of case, stamp and licence, each a plain identifier. */
export function exportSelector(given: { case?: string; stamp?: string; licence?: string }): ExportSelector {
  const set = Object.entries(given).filter(([, v]) => v !== undefined) as [keyof typeof given, string][];
  if (set.length !== 1) {
    throw new OneSealError('invalid-selector', 'bad-request', 'Say what to export: exactly one of case, stamp or licence.', { fields: [{ field: 'case', message: 'give one of case, stamp, licence' }] });
  }
  const [key, value] = set[0]!;
  if (!/^[^\x00-\x1f\x7f]{1,128}$/.test(value)) throw new OneSealError('invalid-selector', 'bad-request', `${key} must be 1 to 128 characters without control characters.`, { fields: [{ field: key, message: 'not an identifier' }] });
  return { [key]: value } as ExportSelector;
}

interface Member {
  kind: ArchivedKind;
  id: string;
  ownerClientId: string | null;
  caseNumber: string | null;
  itemCode: string | null;
  /** 承办部门, when the record has one (a later migration adds it). */
  department: string | null;
  centre: string | null;
  client: string | null;
  createdAt: string;
  filename: string | null;
}

const optional = (row: Record<string, unknown>, column: string): string | null => (row[column] === undefined || row[column] === null ? null : String(row[column]));

async function members(services: Services, sel: ExportSelector): Promise<Member[]> {
  const db = services.store.db;
  const stampQuery = db('stamps').leftJoin('api_clients', 'api_clients.id', 'stamps.client_id').whereNotNull('stamps.output_path').select('stamps.*', { client_name: 'api_clients.name' });
  const licenceQuery = db('licences').select(db.raw('*'));
  let stamps: Record<string, unknown>[] = [];
  let licences: Record<string, unknown>[] = [];
  if ('case' in sel) {
    stamps = await stampQuery.where('stamps.case_number', sel.case).orderBy('stamps.created_at');
    licences = await licenceQuery.where('case_number', sel.case).orderBy('issued_at');
  } else if ('stamp' in sel) {
    stamps = await stampQuery.where('stamps.id', sel.stamp);
  } else {
    licences = await licenceQuery.where('id', sel.licence);
  }
  return [
    ...stamps.map((r) => ({
      kind: 'stamp' as const, id: String(r.id), ownerClientId: String(r.client_id), caseNumber: optional(r, 'case_number'), itemCode: optional(r, 'item_code'),
      department: optional(r, 'department'), centre: optional(r, 'centre_code'), client: optional(r, 'client_name'), createdAt: String(r.created_at), filename: optional(r, 'filename'),
    })),
    ...licences.map((r) => ({
      kind: 'licence' as const, id: String(r.id), ownerClientId: optional(r, 'owner_client_id'), caseNumber: optional(r, 'case_number'), itemCode: optional(r, 'item_code'),
      department: optional(r, 'department'), centre: optional(r, 'centre_code'), client: null, createdAt: String(r.issued_at), filename: null,
    })),
  ];
}

/** People with the role see every document; a client only packages documents that are all its own. */
function authorizeExport(actor: Actor, sel: ExportSelector, found: Member[]): void {
  authorize(actor, 'archive.export');
  const what = 'case' in sel ? `case "${sel.case}"` : 'stamp' in sel ? `stamp "${sel.stamp}"` : `licence "${sel.licence}"`;
  const visible = actor.kind !== 'client' || found.every((m) => m.ownerClientId === actor.id);
  if (found.length === 0 || !visible) throw new OneSealError('archive-nothing-to-export', 'not-found', `There are no stored documents for ${what} among yours.`);
}

const fileStem = (m: Member): string => `${m.kind}-${m.id.replace(/[^0-9A-Za-z.-]/g, '_')}`;

const DAY_MS = 24 * 3600 * 1000;

export interface ExportResult {
  asice: Buffer;
  documents: number;
  /** Documents this export raised from B-T to B-LTA, and those it could not raise (with why). */
  raised: string[];
  notRaised: { document: string; why: string }[];
}

export async function exportPackage(services: Services, actor: Actor, sel: ExportSelector, now = new Date()): Promise<ExportResult> {
  const found = await members(services, sel);
  authorizeExport(actor, sel, found);
  const config: Config = services.config;
  const deps = renewDeps(services);
  const subjects = found.flatMap((m) => [m.id, `${m.kind}:${m.id}`]);
  await services.store.db.transaction((trx) => appendAudit(trx, {
    actor: actorLabel(actor), action: 'archive.export', subject: `${found[0]!.kind}:${found[0]!.id}`,
    details: { selector: sel, documents: found.map((m) => `${m.kind}:${m.id}`) },
  }));

  const entries: { name: string; mimeType: string; data: Uint8Array }[] = [];
  const documents = [];
  for (const m of found) {
    const doc = await raiseToLta(deps, m.kind, m.id, actorLabel(actor), now);
    const stem = fileStem(m);
    const report = await services.verifier.verify(doc.pdf, { now });
    const heading = {
      title: `${m.kind === 'stamp' ? '盖章文件 stamp' : '电子证照 licence'} ${m.id}`,
      lines: [`案件编号 case: ${m.caseNumber ?? '—'}`, `验证时间 verified at: ${now.toISOString()}`, `SHA-256: ${doc.sha256}`, `副本 copy: ${doc.copySeq}`],
    };
    entries.push(
      { name: `documents/${stem}.pdf`, mimeType: 'application/pdf', data: doc.pdf },
      { name: `reports/${stem}.json`, mimeType: 'application/json', data: Buffer.from(`${JSON.stringify({ document: `documents/${stem}.pdf`, verifiedAt: now.toISOString(), report }, null, 2)}\n`) },
      { name: `reports/${stem}.pdf`, mimeType: 'application/pdf', data: await reportPdf(heading, `documents/${stem}.pdf`, report) },
    );
    documents.push({ kind: m.kind, id: m.id, file: `documents/${stem}.pdf`, sha256: doc.sha256, copy: doc.copySeq, itemCode: m.itemCode, department: m.department, centre: m.centre, client: m.client, createdAt: m.createdAt, filename: m.filename, verdict: report.verdict, lta: doc.lta, ...('why' in doc ? { ltaNotRaised: doc.why } : {}) });
  }
  const proof = await buildAuditProof(services.store.db, services.authority.audit, subjects);
  if (proof) entries.push({ name: 'audit/proof.json', mimeType: 'application/json', data: Buffer.from(`${JSON.stringify(proof, null, 2)}\n`) });
  const dates = found.map((m) => m.createdAt).sort();
  const metadata = {
    format: 'oneseal-archive/1',
    caseNumber: 'case' in sel ? sel.case : found[0]!.caseNumber,
    itemCodes: [...new Set(found.map((m) => m.itemCode).filter((c) => c !== null))],
    departments: [...new Set(found.map((m) => m.department).filter((c) => c !== null))],
    clients: [...new Set(found.map((m) => m.client).filter((c) => c !== null))],
    dates: { first: dates[0], last: dates.at(-1), exported: now.toISOString() },
    retention: { years: config.archive.retentionYears, until: new Date(now.getTime() + config.archive.retentionYears * 365.25 * DAY_MS).toISOString().slice(0, 10) },
    organisation: config.seal.orgName,
    documents,
  };
  entries.push({ name: 'metadata.json', mimeType: 'application/json', data: Buffer.from(`${canonicalJson(metadata)}\n`) });

  const manifest = manifestXml(entries);
  const signature = await signDetached(manifest, services.authority.archive, [services.authority.root.certificate], localTimestamper({ store: services.store, authority: services.authority }));
  const asice = zip([
    { name: 'mimetype', data: Buffer.from(ASIC_MIMETYPE, 'ascii') },
    ...entries.map(({ name, data }) => ({ name, data })),
    { name: MANIFEST_NAME, data: manifest },
    { name: SIGNATURE_NAME, data: signature },
  ], now);
  return {
    asice,
    documents: found.length,
    raised: documents.filter((d) => d.lta === 'raised').map((d) => d.file),
    notRaised: documents.flatMap((d) => (d.ltaNotRaised ? [{ document: d.file, why: d.ltaNotRaised }] : [])),
  };
}
