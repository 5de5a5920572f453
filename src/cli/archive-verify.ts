import { readFileSync } from 'node:fs';
import { verifyPackage, type PackageVerification } from '../archive/verify-package.js';
import { loadConfig } from '../config.js';
import { OneSealError } from '../errors.js';
import { pemToDer } from '../pki/der.js';
import { openStore } from '../store/db.js';
import { getPkiKey } from '../store/pki.js';
import { certificateFromDer } from '../verify/certs.js';
import { printResult, UsageError, type CommandRunner, type CommandContext } from './command.js';

/** 0 valid; 1 altered, removed or added (named); 3 indeterminate; 2 is usage and I/O. */
const EXIT: Record<PackageVerification['verdict'], number> = { valid: 0, invalid: 1, indeterminate: 3 };

/** --trust files; without them OneSeal's own root from the local database (no server is asked). */
async function anchors(ctx: CommandContext): Promise<Uint8Array[]> {
  const files = (ctx.values.trust as unknown as string[] | undefined) ?? [];
  if (files.length > 0) return files.map((f) => pemToDer(readFileSync(f)));
  const store = await openStore(loadConfig(ctx.io.env));
  try {
    const root = await getPkiKey(store.db, 'root');
    if (!root) throw new UsageError('no trust anchor: pass --trust ROOT.pem (this machine has no OneSeal root)');
    return [root.certificate];
  } finally {
    await store.close();
  }
}

export const archiveVerify: CommandRunner = {
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file) throw new UsageError('name the package to verify');
    const bytes = readFileSync(file);
    const der = await anchors(ctx);
    let parsed;
    try {
      parsed = der.map((d) => certificateFromDer(d));
    } catch (cause) {
      throw new OneSealError('invalid-trust-anchor', 'bad-request', 'A --trust file is not an X.509 certificate.', { cause });
    }
    const result = await verifyPackage(bytes, der, parsed);
    const lines = [
      `${file}: ${result.verdict.toUpperCase()}${result.signedAt ? ` (sealed ${result.signedAt})` : ''}`,
      ...result.archiveTimestamps.map((a) => `  archive time-stamp ${a.entry} over ${a.manifest}${a.genTime ? ` at ${a.genTime}` : ''}`),
      ...result.documents.map((d) => `  ${d.entry}: ${d.verdict}${d.at ? ` (as of ${d.at}, when the package was sealed)` : ''}`),
      ...result.problems.map((p) => `  ${p.kind.toUpperCase()}${p.entry ? ` ${p.entry}` : ''}: ${p.message}`),
    ];
    printResult(ctx, { file, ...result }, lines.join('\n'));
    return EXIT[result.verdict];
  },
};
