/**
 * `oneseal licence issue --type T --data FILE.json -o OUT.pdf`: issues a licence with the local HSM
 * and database (no server), exactly as POST /v1/licences does.
 */
import { loadConfig } from '../config.js';
import { issueLicence, licenceDeps } from '../licences/service.js';
import { openServices } from '../services.js';
import { printResult, UsageError, type Command } from './command.js';
import { readLicenceData, requireOutput, writeLicence } from './licence-files.js';
import { osUser } from './stamp.js';

export const licenceIssue: Command = {
  name: 'licence issue',
  summary: 'issue an electronic licence: render, seal (PAdES B-LT, certified) and record it',
  usage: '--type TYPE --data FILE.json -o OUT.pdf ',
  options: { type: { type: 'string' }, data: { type: 'string' }, output: { type: 'string', short: 'o' } },
  async run(ctx) {
    const { type } = ctx.values;
    if (typeof type !== 'string') throw new UsageError('say which licence type with --type, e.g. --type business-licence');
    const data = await readLicenceData(ctx.values.data);
    const output = requireOutput(ctx.values.output);
    const services = await openServices(loadConfig(ctx.io.env));
    try {
      const deps = licenceDeps(services);
      const record = await issueLicence(deps, { type, data }, `cli:${osUser()}`);
      const view = await writeLicence(deps, record, output);
      printResult(ctx, view, `issued ${record.id} (${record.typeId}) → ${output}\nverify at ${view.verifyUrl}`);
      return 0;
    } finally {
      await services.close();
    }
  },
};
