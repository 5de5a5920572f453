import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { verifyAuditLog } from '../audit/heads.js';
import { loadConfig } from '../config.js';
import { OneSealError } from '../errors.js';
import { pemToDer } from '../pki/der.js';
import { openStore } from '../store/db.js';
import { getPkiKey } from '../store/pki.js';
import { printResult, type CommandRunner } from './command.js';

/** The audit certificate from a file kept apart from the database, so a rewrite of the database cannot swap it. */
function readCertificate(file: string): Uint8Array {
  const der = pemToDer(readFileSync(file));
  try {
    new X509Certificate(der);
  } catch {
    throw new OneSealError('invalid-certificate', 'bad-request', `${file} is not an X.509 certificate (PEM or DER): give the audit certificate (subject "OneSeal Audit Log Signer").`);
  }
  return der;
}

export const auditVerify: CommandRunner = {
  async run(ctx) {
    const pinned = typeof ctx.values.certificate === 'string' ? readCertificate(ctx.values.certificate) : undefined;
    const store = await openStore(loadConfig(ctx.io.env));
    try {
      // Only the database is needed: the heads are checked with the audit certificate, not the HSM.
      const auditKey = pinned ? undefined : await getPkiKey(store.db, 'audit');
      const certificate = pinned ?? auditKey?.certificate;
      const result = await verifyAuditLog(store.db, certificate ? [certificate] : []);
      let text: string;
      if (!result.ok) {
        text = `audit log broken at entry ${result.seq} (${result.problem}): ${result.message}`;
      } else {
        const { checked, latestSignedSeq } = result.heads;
        const signed = latestSignedSeq === null ? 'no signed heads yet' : `${checked} signed head${checked === 1 ? '' : 's'} verified, latest signed entry ${latestSignedSeq}`;
        text = `audit log intact: ${result.count} entries, head ${result.lastHash}; ${signed}`;
      }
      printResult(ctx, result, text);
      return result.ok ? 0 : 1;
    } finally {
      await store.close();
    }
  },
};
