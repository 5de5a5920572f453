/**
 * `oneseal licence issue --type T --data FILE.json -o OUT.pdf`: issues a licence with the local HSM
 * and database (no server), exactly as POST /v1/licences does.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { issueLicence, licenceDeps, licenceView } from '../licences/service.js';
import { openServices } from '../services.js';
import { getLicencePdf } from '../store/licences.js';
import { printResult, UsageError, type Command } from './command.js';
import { osUser } from './stamp.js';

export const licenceIssue: Command = {
  name: 'licence issue',
  summary: 'issue an electronic licence: render, seal (PAdES B-LT, certified) and record it',
  usage: '--type TYPE --data FILE.json -o OUT.pdf ',
  options: { type: { type: 'string' }, data: { type: 'string' }, output: { type: 'string', short: 'o' } },
  async run(ctx) {
    const { type, data: dataFile, output } = ctx.values;
    if (typeof type !== 'string') throw new UsageError('say which licence type with --type, e.g. --type business-licence');
    if (typeof dataFile !== 'string') throw new UsageError('name the JSON file of field values with --data FILE.json');
    if (typeof output !== 'string') throw new UsageError('name the output file with -o OUT.pdf');
    let data: unknown;
    try {
      data = JSON.parse(await readFile(dataFile, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw e;
      throw new UsageError(`${dataFile} is not valid JSON: ${(e as Error).message}`);
    }
    const services = await openServices(loadConfig(ctx.io.env));
    try {
      const deps = licenceDeps(services);
      const record = await issueLicence(deps, { type, data }, `cli:${osUser()}`);
      const pdf = (await getLicencePdf(deps.db, record.id))!;
      // Written next to its final name and renamed, so a failed write never leaves half a licence.
      await writeFile(`${output}.partial`, pdf);
      await rename(`${output}.partial`, output);
      const view = licenceView(deps.publicUrl, record);
      printResult(ctx, { ...view, output }, `issued ${record.id} (${record.typeId}) → ${output}\nverify at ${view.verifyUrl}`);
      return 0;
    } finally {
      await services.close();
    }
  },
};
