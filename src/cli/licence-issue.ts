/**
 * `oneseal licence issue --type T --data FILE.json -o OUT.pdf`: issues a licence with the local HSM
 * and database (no server), as the logged-in licence officer, exactly as POST /v1/licences does.
 */
import { actorLabel } from '../access/actors.js';
import { authorizeLicenceType } from '../access/policy.js';
import { resolveHandling } from '../items/handling.js';
import { issueLicence, licenceDeps } from '../licences/service.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';
import { readLicenceData, requireOutput, writeLicence } from './licence-files.js';

export const licenceIssue: CommandRunner = {
  async run(ctx) {
    const { type } = ctx.values;
    if (typeof type !== 'string') throw new UsageError('say which licence type with --type, e.g. --type business-licence');
    const data = await readLicenceData(ctx.values.data);
    const output = requireOutput(ctx.values.output);
    return actAs(ctx, async (services, actor) => {
      authorizeLicenceType(actor, 'licence.issue', type);
      const deps = licenceDeps(services);
      // A centre's officer must name an item delegated to the centre, as over HTTP.
      const handling = await resolveHandling(deps.db, actor, typeof ctx.values.item === 'string' ? ctx.values.item : null, 'issue licences');
      const record = await issueLicence(deps, { type, data }, actorLabel(actor), { handling });
      const view = await writeLicence(deps, record, output);
      printResult(ctx, view, `issued ${record.id} (${record.typeId}) → ${output}\nverify at ${view.verifyUrl}`);
      return 0;
    });
  },
};
