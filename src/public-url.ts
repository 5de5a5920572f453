/**
 * One public URL for the server and the CLI. It goes into QR codes and certificates, so a licence
 * issued from the CLI must carry the URL the running server answers on, not one derived from the CLI's
 * own (default) port. The server records the URL it serves under (settings table); a CLI without
 * ONESEAL_PUBLIC_URL of its own takes that one.
 */
import type { Config } from './config.js';
import { OneSealError } from './errors.js';
import type { Db } from './store/db.js';
import { getSetting, putSetting } from './store/settings.js';

/** configured: ONESEAL_PUBLIC_URL; server: recorded by the running server; derived: from host and port only. */
export type PublicUrlSource = 'configured' | 'server' | 'derived';

export async function sharedPublicUrl(db: Db, config: Pick<Config, 'publicUrl' | 'publicUrlConfigured'>): Promise<{ url: string; source: PublicUrlSource }> {
  if (config.publicUrlConfigured) return { url: config.publicUrl, source: 'configured' };
  const recorded = await getSetting(db, 'public-url');
  return recorded ? { url: recorded, source: 'server' } : { url: config.publicUrl, source: 'derived' };
}

/** The server's own URL, recorded for the CLI. */
export function recordServerPublicUrl(db: Db, url: string): Promise<void> {
  return putSetting(db, 'public-url', url);
}

/** Production never prints a guessed address into a licence's QR code. */
export function assertPublicUrlSet(config: Pick<Config, 'production'>, source: PublicUrlSource): void {
  if (config.production && source === 'derived') {
    throw new OneSealError('public-url-unset', 'unavailable',
      'No public URL is set: licences carry it in their QR code. Set ONESEAL_PUBLIC_URL (or start the server, which records its own).',
      { fields: [{ field: 'ONESEAL_PUBLIC_URL', message: 'required in production to issue licences' }] });
  }
}
