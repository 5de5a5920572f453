/**
 * `oneseal pki qr-rotate` and `oneseal pki qr-revoke KID --reason R [--revoked-at T]`: the
 * licence-QR key's lifecycle as the person logged in (or break-glass), through the same change and
 * two-person control as the admin API (src/pki/licence-qr-changes.ts).
 */
import { requestChange } from '../access/two-person.js';
import { qrKeyChangeText } from '../pki/licence-qr-changes.js';
import { actAs, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';
import { positional, str } from './seal.js';

export const pkiQrKeyRotate: CommandRunner = {
  async run(ctx) {
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'licence-qr.rotate', {}), qrKeyChangeText));
  },
};

export const pkiQrKeyRevoke: CommandRunner = {
  async run(ctx) {
    const kid = positional(ctx, 0, 'pki qr-revoke KID --reason REASON');
    const reason = str(ctx, 'reason');
    if (reason === undefined) throw new UsageError('say why: --reason keyCompromise, superseded, cessationOfOperation, …');
    const revokedAt = str(ctx, 'revoked-at');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'licence-qr.revoke', { kid, reason, ...(revokedAt ? { revokedAt } : {}) }), qrKeyChangeText));
  },
};
