/**
 * `oneseal licence issue --type T --data FILE.json -o OUT.pdf`: issues a licence with the local HSM
 * and database (no server), as the logged-in licence officer, exactly as POST /v1/licences does.
 */
import { actorLabel } from '../access/actors.js';
import { authorizeLicenceType } from '../access/policy.js';
import { resolveHandling } from '../items/handling.js';
import { issueLicence, licenceDeps } from '../licences/service.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, UsageError, type Command } from './command.js';
import { readLicenceData, requireOutput, writeLicence } from './licence-files.js';

export const licenceIssue: Command = {
  name: 'licence issue',
  summary: 'issue an electronic licence: render, seal (PAdES B-LT, certified) and record it',
  usage: `--type TYPE [--item CODE] --data FILE.json -o OUT.pdf ${ACTING_USAGE}`,
  options: { type: { type: 'string' }, item: { type: 'string' }, data: { type: 'string' }, output: { type: 'string', short: 'o' }, ...ACTING_OPTIONS },
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
      const record = await issueLicence(deps, { type, data }, actorLabel(actor), null, handling);
      const view = await writeLicence(deps, record, output);
      printResult(ctx, view, `issued ${record.id} (${record.typeId}) → ${output}\nverify at ${view.verifyUrl}`);
      return 0;
    });
  },
};
