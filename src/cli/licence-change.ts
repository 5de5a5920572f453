/**
 * `oneseal licence change ID --data FILE.json -o OUT.pdf`: issues the next version of a licence with
 * new field values (same serial, new identifier) and marks the old one superseded, as the logged-in
 * licence officer, exactly as POST /v1/licences/{id}/versions does.
 */
import { actorLabel } from '../access/actors.js';
import { authorizeLicence } from '../access/policy.js';
import { resolveHandling } from '../items/handling.js';
import { changeLicence, licenceDeps, requireLicence } from '../licences/service.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';
import { readLicenceData, requireOutput, writeLicence } from './licence-files.js';

export const licenceChange: CommandRunner = {
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the licence: oneseal licence change ID --data FILE.json -o OUT.pdf');
    const data = await readLicenceData(ctx.values.data);
    const output = requireOutput(ctx.values.output);
    return actAs(ctx, async (services, actor) => {
      const deps = licenceDeps(services);
      const old = await requireLicence(deps.db, id);
      authorizeLicence(actor, 'licence.change', old);
      const record = await changeLicence(deps, id, data, actorLabel(actor), { handling: await resolveHandling(deps.db, actor, old.itemCode, 'issue licences') });
      const view = await writeLicence(deps, record, output);
      printResult(ctx, view, `issued ${record.id}, version ${record.version} of ${record.serial}, superseding ${id} → ${output}\nverify at ${view.verifyUrl}`);
      return 0;
    });
  },
};
