/**
 * `oneseal init`: everything the service needs before it can start, created only where missing
 * (so running it again is cheap): the SoftHSM dev token, the database schema, the certification
 * authority's keys and certificates, the licence-QR signing key, and the default seal.
 */
import { ensureAccessSecret } from './access/secrets.js';
import { assertProductionSafe, type Config } from './config.js';
import { ensureSoftHsmToken } from './hsm/dev-token.js';
import { ensureAuthority } from './pki/authority.js';
import { rotateLicenceQrKey } from './pki/licence-qr.js';
import { createSeal } from './seals/service.js';
import { openHsm } from './services.js';
import { openStore } from './store/db.js';
import { getSeal } from './store/seals.js';

export const DEFAULT_SEAL_ID = 'approval';

export async function initialise(config: Config, report: (change: string) => void): Promise<void> {
  if (ensureSoftHsmToken(config)) report(`created SoftHSM token "${config.hsm.tokenLabel}" in ${config.hsm.softhsmTokensDir}`);
  const hsm = await openHsm(config);
  try {
    const store = await openStore(config);
    try {
      const { authority, created } = await ensureAuthority({
        db: store.db,
        hsm,
        publicUrl: config.publicUrl,
        allowDevRoot: !config.production,
      });
      for (const role of created) report(`created the ${role} key in the HSM and its certificate`);
      assertProductionSafe(config, { usingDevRoot: authority.usingDevRoot });
      const qrKid = await rotateLicenceQrKey({ db: store.db, hsm, authority }, 'system:init', { onlyIfMissing: true });
      if (qrKid) report(`created the licence-QR signing key in the HSM and its certificate (kid ${qrKid})`);
      if (await ensureAccessSecret(hsm)) report('created the server secret in the HSM (API keys, sessions and proposals are checked with it)');
      if (!(await getSeal(store.db, DEFAULT_SEAL_ID))) {
        await createSeal(
          { store, hsm, authority },
          {
            id: DEFAULT_SEAL_ID,
            organisation: config.seal.orgName,
            creditCode: config.seal.orgCreditCode,
            name: config.seal.sealName,
            sealType: 'approval',
            isTest: !config.production,
            twoPersonControl: config.production,
          },
          'system:init',
        );
        report(`created the default seal "${DEFAULT_SEAL_ID}" (${config.seal.orgName} ${config.seal.sealName})`);
      }
    } finally {
      await store.close();
    }
  } finally {
    await hsm.close();
  }
}
