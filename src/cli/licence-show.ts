import { loadConfig } from '../config.js';
import { LicenceTypeRegistry } from '../licences/registry.js';
import { verificationUrl } from '../licences/render.js';
import { chinaDate, effectiveStatus, licenceView, requireLicence } from '../licences/service.js';
import { openStore } from '../store/db.js';
import { printResult, UsageError, type Command } from './command.js';

export const licenceShow: Command = {
  name: 'licence show',
  summary: 'show a licence record and its current status (valid, superseded, revoked, expired)',
  usage: 'ID ',
  positionals: 1,
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the licence: oneseal licence show ID');
    const config = loadConfig(ctx.io.env);
    const store = await openStore(config);
    try {
      const record = await requireLicence(store.db, id);
      const type = LicenceTypeRegistry.load().get(record.typeId);
      const lines = [
        `${record.id}`,
        `  type       ${type.title.zh} (${type.id}), version ${record.version}`,
        `  status     ${effectiveStatus(record, chinaDate(new Date()))}`,
        `  holder     ${record.holderName} ${record.holderId}`,
        `  issuer     ${record.issuerName} ${record.issuerCode}`,
        `  valid      ${record.validFrom} – ${record.validTo}`,
        `  issued     ${record.issuedAt} by ${record.issuedBy}; seal ${record.sealId} v${record.sealVersion} (certificate ${record.certSerial})`,
        `  sha256     ${record.sha256}`,
        ...(record.supersedes ? [`  supersedes ${record.supersedes}`] : []),
        ...(record.supersededBy ? [`  superseded by ${record.supersededBy}`] : []),
        ...(record.revokedAt ? [`  revoked    ${record.revokedAt}: ${record.revocationReason}`] : []),
        `  verify at  ${verificationUrl(config.publicUrl, record.id)}`,
      ];
      printResult(ctx, licenceView(config.publicUrl, record), lines.join('\n'));
      return 0;
    } finally {
      await store.close();
    }
  },
};
