/**
 * An HSM that can be made slow: test/support/slow-pkcs11.c, compiled here, is a PKCS#11 module in
 * front of SoftHSM that holds each C_Sign back by a delay the test changes while the server runs.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SOFTHSM_MODULE } from '../../src/hsm/softhsm.js';
import { repoRoot } from './pdfs.js';

export interface SlowHsm {
  /** Environment for a OneSeal process to use the slow module over the data dir's SoftHSM token. */
  env(dataDir: string): NodeJS.ProcessEnv;
  /** From the next signature on, each one takes this much longer (0: full speed again). */
  setDelay(ms: number): void;
}

export function buildSlowHsm(workDir: string): SlowHsm {
  const modulePath = path.join(workDir, 'libslow-pkcs11.so');
  execFileSync('gcc', [
    '-shared', '-fPIC', '-Wall', '-Werror', '-O2',
    '-I', path.join(repoRoot, 'node_modules/pkcs11js/includes/pkcs11'),
    '-o', modulePath, path.join(repoRoot, 'test/support/slow-pkcs11.c'), '-ldl',
  ]);
  const delayFile = path.join(workDir, 'sign-delay-ms');
  const setDelay = (ms: number) => writeFileSync(delayFile, String(ms));
  setDelay(0);
  return {
    env: (dataDir) => ({
      ONESEAL_PKCS11_MODULE: modulePath,
      // OneSeal only points SoftHSM at the data dir's token store itself when it loads SoftHSM directly
      SOFTHSM2_CONF: path.join(dataDir, 'hsm', 'softhsm2.conf'),
      SLOW_PKCS11_MODULE: SOFTHSM_MODULE,
      SLOW_PKCS11_DELAY_FILE: delayFile,
    }),
    setDelay,
  };
}
