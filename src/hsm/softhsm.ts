import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OneSealError } from '../errors.js';

/**
 * SoftHSM2 stands in for the HSM on laptops, in tests and demos. Its token store lives under the data
 * directory, so each checkout (and each test suite) has a token of its own.
 */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export function isSoftHsm(modulePath: string): boolean {
  return /softhsm/i.test(modulePath);
}

/** Writes softhsm2.conf pointing at `<dir>/tokens` (idempotent); returns the conf path. */
export function writeSoftHsmConf(dir: string): string {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  const text = `# written by OneSeal: the dev/test token store\ndirectories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`;
  writeFileSync(conf, text, { mode: 0o600 });
  return conf;
}

export function hasInitialisedToken(dir: string): boolean {
  const tokens = join(dir, 'tokens');
  return existsSync(tokens) && readdirSync(tokens).some((d) => existsSync(join(tokens, d, 'token.object')));
}

/** Creates a token with the given label and PINs in the SoftHSM store that `conf` points at. */
export function initSoftHsmToken(conf: string, label: string, pin: string, soPin: string): void {
  try {
    // PINs travel as arguments to a short-lived local process, never through a log.
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
      env: { ...process.env, SOFTHSM2_CONF: conf },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new OneSealError(
      'softhsm-init-failed',
      'unavailable',
      `Could not create the SoftHSM token "${label}": ${stderr || (e as Error).message}. Is softhsm2 installed (apt-get install softhsm2)?`,
      { cause: e },
    );
  }
}
