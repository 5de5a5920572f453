/** The current signed trust and status lists of a running OneSeal, for the routes and the CLI. */
import { OneSealError } from '../errors.js';
import { LICENCE_SEAL_ID } from '../licences/service.js';
import type { Services } from '../services.js';
import { getSeal } from '../store/seals.js';
import { signedStatusList } from './status-list.js';
import type { SignedDocument } from './signed-documents.js';
import { signedTrustList } from './trust-list.js';

/** Who issues: the organisation of the seal that signs licences. */
async function issuer(services: Services): Promise<{ name: string; creditCode: string; publicUrl: string }> {
  const seal = await getSeal(services.store.db, LICENCE_SEAL_ID);
  if (!seal) throw new OneSealError('licence-seal-missing', 'unavailable', `The seal "${LICENCE_SEAL_ID}" that issues licences does not exist; run \`oneseal init\`.`);
  return { name: seal.organisation, creditCode: seal.creditCode, publicUrl: services.config.publicUrl };
}

export async function currentTrustList(services: Services): Promise<SignedDocument> {
  return signedTrustList(services.store.db, services.authority.root, await issuer(services));
}

export async function currentStatusList(services: Services): Promise<SignedDocument> {
  const { creditCode, publicUrl } = await issuer(services);
  return signedStatusList(services.store.db, services.authority.root, { creditCode, publicUrl });
}
