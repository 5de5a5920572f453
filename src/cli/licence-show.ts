import { authorizeLicence, seesPersonalData } from '../access/policy.js';
import { publicHolder } from '../licences/masking.js';
import { LicenceTypeRegistry } from '../licences/registry.js';
import { verificationUrl } from '../licences/render.js';
import { chinaDate, effectiveStatus, licenceView, maskedLicenceView, requireLicence } from '../licences/service.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const licenceShow: CommandRunner = {
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the licence: oneseal licence show ID');
    return actAs(ctx, async (services, actor) => {
      const { config } = services;
      const record = await requireLicence(services.store.db, id);
      authorizeLicence(actor, 'licence.read', record);
      const registry = LicenceTypeRegistry.load();
      const type = registry.get(record.typeId);
      // Without licence.personal-data the holder is shown as the public page shows them.
      const personal = seesPersonalData(actor, record);
      const holder = personal ? { name: record.holderName, id: record.holderId } : publicHolder(type, { name: record.holderName, id: record.holderId });
      const lines = [
        `${record.id}`,
        `  type       ${type.title.zh} (${type.id}), version ${record.version}`,
        `  status     ${effectiveStatus(record, chinaDate(new Date()))}`,
        `  holder     ${holder.name} ${holder.id}`,
        `  issuer     ${record.issuerName} ${record.issuerCode}`,
        `  valid      ${record.validFrom} – ${record.validTo}`,
        `  issued     ${record.issuedAt} by ${record.issuedBy}; seal ${record.sealId} v${record.sealVersion} (certificate ${record.certSerial})`,
        `  sha256     ${record.sha256}`,
        ...(record.supersedes ? [`  supersedes ${record.supersedes}`] : []),
        ...(record.supersededBy ? [`  superseded by ${record.supersededBy}`] : []),
        ...(record.revokedAt ? [`  revoked    ${record.revokedAt}: ${record.revocationReason}`] : []),
        `  verify at  ${verificationUrl(config.publicUrl, record.id)}`,
      ];
      printResult(ctx, personal ? licenceView(config.publicUrl, record) : maskedLicenceView(registry, config.publicUrl, record), lines.join('\n'));
      return 0;
    });
  },
};
