/**
 * The trust list (GET /.well-known/oneseal/trust-list.json, `oneseal pki trust-list`): who issues, the
 * root, and every licence-QR and seal certificate the root issued with its kid, chain (x5c, leaf first),
 * validity and status, signed by the root so other provinces can mirror it and pass it on. Offline
 * verifiers find the key of a QR payload here by its kid; retired keys stay listed so that what they
 * signed still verifies.
 */
import type { Knex } from 'knex';
import { OneSealError } from '../errors.js';
import type { KeyWithCertificate } from '../pki/authority.js';
import { serialHex, toCertificate } from '../pki/der.js';
import { verifyJws } from '../pki/jws.js';
import { kidOf } from '../pki/licence-qr.js';
import { listLicenceQrKeys } from '../store/licence-qr-keys.js';
import { getIssuedCertificate } from '../store/pki.js';
import { listSeals, listSealVersions } from '../store/seals.js';
import { signedDocument, type SignedDocument } from './signed-documents.js';

export const TRUST_LIST_TYPE = 'oneseal-trust-list+jws';

export interface TrustedCertificate {
  /** Hex of the first 8 bytes of SHA-256 over the certificate's DER. */
  kid: string;
  /** Base64 DER, leaf first, the root last. */
  x5c: string[];
  notBefore: string;
  notAfter: string;
  /** 'active' signs now; 'retired' signed before a rotation and still verifies; 'revoked' since revokedAt. */
  status: 'active' | 'retired' | 'revoked';
  revokedAt: string | null;
}

export interface TrustListContent {
  issuer: { name: string; creditCode: string; publicUrl: string };
  root: { kid: string; x5c: string[]; notBefore: string; notAfter: string };
  licenceQr: TrustedCertificate[];
  seals: Array<TrustedCertificate & { seal: string; version: number }>;
}

export interface TrustList extends TrustListContent {
  issuedAt: string;
  nextUpdate: string;
}

const b64 = (der: Uint8Array): string => Buffer.from(der).toString('base64');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

async function entry(db: Knex, der: Uint8Array, root: Uint8Array, status: 'active' | 'retired'): Promise<TrustedCertificate> {
  const cert = toCertificate(der);
  const issued = await getIssuedCertificate(db, serialHex(cert));
  const revoked = issued?.status === 'revoked';
  return {
    kid: hex(kidOf(der)),
    x5c: [b64(der), b64(root)],
    notBefore: cert.notBefore.value.toISOString(),
    notAfter: cert.notAfter.value.toISOString(),
    status: revoked ? 'revoked' : status,
    revokedAt: revoked ? issued.revokedAt : null,
  };
}

export async function trustListContent(db: Knex, root: Uint8Array, issuer: TrustListContent['issuer']): Promise<TrustListContent> {
  const rootCert = toCertificate(root);
  const licenceQr = await Promise.all((await listLicenceQrKeys(db)).map((k) => entry(db, k.certificate, root, k.status)));
  const seals: TrustListContent['seals'] = [];
  for (const seal of await listSeals(db)) {
    for (const v of await listSealVersions(db, seal.id)) {
      if (!v.certificate) continue;
      seals.push({ seal: seal.id, version: v.version, ...(await entry(db, v.certificate, root, v.status === 'active' ? 'active' : 'retired')) });
    }
  }
  return {
    issuer,
    root: { kid: hex(kidOf(root)), x5c: [b64(root)], notBefore: rootCert.notBefore.value.toISOString(), notAfter: rootCert.notAfter.value.toISOString() },
    licenceQr,
    seals,
  };
}

export async function signedTrustList(db: Knex, root: KeyWithCertificate, issuer: TrustListContent['issuer'], now?: Date): Promise<SignedDocument> {
  return signedDocument(db, root, TRUST_LIST_TYPE, await trustListContent(db, root.certificate, issuer), now);
}

/** A trust list's content once its signature by `root` (DER) is checked. */
export function readTrustList(text: string, root: Uint8Array): TrustList {
  const list = verifyJws(text, TRUST_LIST_TYPE, root) as Partial<TrustList>;
  if (!Array.isArray(list.licenceQr) || !list.issuer || typeof list.issuedAt !== 'string') {
    throw new OneSealError('invalid-signed-document', 'unprocessable', 'the trust list lacks its issuer, licence-QR certificates or issue time');
  }
  return list as TrustList;
}
