import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hsm } from '../../src/hsm/hsm.js';
import { initSoftHsmToken, SOFTHSM_MODULE, writeSoftHsmConf } from '../../src/hsm/softhsm.js';

export const TEST_TOKEN_LABEL = 'oneseal-test';
export const TEST_PIN = '4321-test';
const TEST_SO_PIN = '87654321-test';

export interface TestToken {
  hsm: Hsm;
  /** The suite's own SoftHSM directory (conf + tokens). */
  dir: string;
  conf: string;
  label: string;
  pin: string;
  close(): Promise<void>;
}

/** Creates a token in a fresh SoftHSM store and points this process at it, without logging in. */
export function createTestToken(): { dir: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-hsm-'));
  const conf = writeSoftHsmConf(dir);
  process.env.SOFTHSM2_CONF = conf;
  initSoftHsmToken(conf, TEST_TOKEN_LABEL, TEST_PIN, TEST_SO_PIN);
  return { dir, conf };
}

/**
 * A fresh SoftHSM2 token in a temp directory for one test file. SoftHSM reads SOFTHSM2_CONF when the
 * module initialises, and vitest runs each file in its own process, so suites never share a token.
 */
export async function openTestHsm(options: { poolSize?: number } = {}): Promise<TestToken> {
  const { dir, conf } = createTestToken();
  const hsm = await Hsm.open({
    modulePath: SOFTHSM_MODULE,
    tokenLabel: TEST_TOKEN_LABEL,
    pin: TEST_PIN,
    poolSize: options.poolSize ?? 4,
  });
  return {
    hsm,
    dir,
    conf,
    label: TEST_TOKEN_LABEL,
    pin: TEST_PIN,
    async close() {
      await hsm.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
