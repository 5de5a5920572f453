/**
 * The trust step of one signature: a chain to an anchor at the proven time (else now), then the
 * revocation status of each certificate below the anchor. A revocation after the proven time does
 * not matter; without a proven time no revocation can be placed before or after signing, so it
 * leaves the signature indeterminate.
 */
import type * as pkijs from 'pkijs';
import { serialHex } from '../pki/der.js';
import { parseName } from '../pki/names.js';
import type { ParsedCms } from './cms.js';
import type { DssMaterial } from './dss.js';
import { detail, reason, type Reason } from './reasons.js';
import { evidenceFromCms, revocationStatus, type RevocationLookup } from './revocation.js';
import { buildChain, type SignatureChecks } from './trust.js';

export interface TrustInputs {
  pool: pkijs.Certificate[];
  anchors: pkijs.Certificate[];
  provenTime?: Date;
  now: Date;
  cms?: ParsedCms;
  dss: DssMaterial;
  lookup?: RevocationLookup;
  checks: SignatureChecks;
}

export async function trustReasons(signerCert: pkijs.Certificate, t: TrustInputs): Promise<Reason[]> {
  const trust = buildChain(signerCert, t.pool, t.anchors, t.provenTime ?? t.now, t.checks);
  const reasons = [...trust.reasons];
  if (!trust.anchored || !t.cms) return reasons;
  const fromCms = evidenceFromCms(t.cms);
  const fromDss = t.dss.evidence();
  const evidence = { crls: [...fromDss.crls, ...fromCms.crls], ocsps: [...fromDss.ocsps, ...fromCms.ocsps] };
  for (let i = 0; i + 1 < trust.chain.length; i++) {
    const cert = trust.chain[i]!;
    const status = await revocationStatus(cert, trust.chain[i + 1]!, evidence, t.lookup);
    const who = parseName(cert.subject).commonName ?? serialHex(cert);
    if (status.status === 'revoked') {
      const at = status.revokedAt.toISOString();
      if (t.provenTime && t.provenTime.getTime() < status.revokedAt.getTime()) continue;
      if (t.provenTime) reasons.push(reason('CERT_REVOKED', detail(`证书“${who}”于 ${at} 被吊销。`, `Certificate "${who}" was revoked at ${at}.`)));
      else {
        reasons.push(
          reason('REVOCATION_UNKNOWN', detail(`证书“${who}”已于 ${at} 被吊销，且没有可信时间戳证明签名早于吊销。`, `Certificate "${who}" was revoked at ${at} and no trusted time-stamp proves the signature is older.`)),
        );
      }
    } else if (status.status === 'unknown' && i === 0) {
      // Intermediates often come without revocation data; only the signer's own status is required.
      reasons.push(reason('REVOCATION_UNKNOWN'));
    }
  }
  return reasons;
}
