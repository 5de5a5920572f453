import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { hasInitialisedToken, initSoftHsmToken, isSoftHsm, writeSoftHsmConf } from './softhsm.js';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Points SoftHSM at the data directory's token store (unless SOFTHSM2_CONF says otherwise).
 * Must run before the module is loaded: SoftHSM reads its configuration once, when it initialises.
 */
export function selectSoftHsmStore(config: Config): void {
  if (!isSoftHsm(config.hsm.modulePath) || !config.hsm.manageSofthsmConf) return;
  if (!existsSync(config.hsm.softhsmConfPath)) writeSoftHsmConf(dirname(config.hsm.softhsmConfPath));
  process.env.SOFTHSM2_CONF = config.hsm.softhsmConfPath;
}

/**
 * Creates the SoftHSM token OneSeal is configured for when the managed store has none.
 * Returns true when it created one. Real HSMs are never initialised by OneSeal.
 */
export function ensureSoftHsmToken(config: Config): boolean {
  if (!isSoftHsm(config.hsm.modulePath) || !config.hsm.manageSofthsmConf) return false;
  selectSoftHsmStore(config);
  if (hasInitialisedToken(dirname(config.hsm.softhsmConfPath))) return false;
  // The SO PIN only matters for re-initialising a demo token; nobody needs to know it.
  initSoftHsmToken(config.hsm.softhsmConfPath, config.hsm.tokenLabel, config.hsm.pin.reveal(), randomBytes(12).toString('hex'));
  return true;
}
