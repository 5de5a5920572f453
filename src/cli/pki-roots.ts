import { readFileSync } from 'node:fs';
import { loadConfig } from '../config.js';
import { derToPem } from '../pki/der.js';
import { openStore } from '../store/db.js';
import { getPkiKey } from '../store/pki.js';
import { printResult, type CommandRunner } from './command.js';

export const pkiRoots: CommandRunner = {
  async run(ctx) {
    const config = loadConfig(ctx.io.env);
    const store = await openStore(config);
    let root;
    try {
      root = await getPkiKey(store.db, 'root');
    } finally {
      await store.close();
    }
    // Before `oneseal init` has run, the development root is the one the dev token will get.
    const [pem, source] = root
      ? [derToPem(root.certificate, 'CERTIFICATE'), 'database']
      : [readFileSync(config.devRootCertPath, 'utf8'), config.devRootCertPath];
    printResult(ctx, { source, pem }, pem.trimEnd());
    return 0;
  },
};
