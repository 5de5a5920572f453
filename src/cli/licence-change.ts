/**
 * `oneseal licence change ID --data FILE.json -o OUT.pdf`: issues the next version of a licence with
 * new field values (same serial, new identifier) and marks the old one superseded, exactly as
 * POST /v1/licences/{id}/versions does.
 */
import { loadConfig } from '../config.js';
import { changeLicence, licenceDeps } from '../licences/service.js';
import { openServices } from '../services.js';
import { printResult, UsageError, type Command } from './command.js';
import { readLicenceData, requireOutput, writeLicence } from './licence-files.js';
import { osUser } from './stamp.js';

export const licenceChange: Command = {
  name: 'licence change',
  summary: 'issue the next version of a licence with new field values; the old version becomes superseded',
  usage: 'ID --data FILE.json -o OUT.pdf ',
  positionals: 1,
  options: { data: { type: 'string' }, output: { type: 'string', short: 'o' } },
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id) throw new UsageError('name the licence: oneseal licence change ID --data FILE.json -o OUT.pdf');
    const data = await readLicenceData(ctx.values.data);
    const output = requireOutput(ctx.values.output);
    const services = await openServices(loadConfig(ctx.io.env));
    try {
      const deps = licenceDeps(services);
      const record = await changeLicence(deps, id, data, `cli:${osUser()}`);
      const view = await writeLicence(deps, record, output);
      printResult(ctx, view, `issued ${record.id}, version ${record.version} of ${record.serial}, superseding ${id} → ${output}\nverify at ${view.verifyUrl}`);
      return 0;
    } finally {
      await services.close();
    }
  },
};
