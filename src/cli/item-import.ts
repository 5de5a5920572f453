/**
 * `oneseal item import FILE.csv|FILE.json`: checks every row of the catalogue and imports all of them,
 * or none — each bad row is reported with its line.
 */
import { readFile } from 'node:fs/promises';
import { importItems } from '../items/catalogue.js';
import { formatOf } from '../items/catalogue-file.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const itemImport: CommandRunner = {
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file) throw new UsageError('name the catalogue file: oneseal item import FILE.csv');
    const format = formatOf(file);
    if (!format) throw new UsageError(`"${file}" is neither .csv nor .json`);
    const text = await readFile(file, 'utf8');
    return actAs(ctx, async (services, actor) => {
      const result = await importItems(services, actor, text, format);
      printResult(ctx, result, `imported ${result.imported} items (${[...new Set(result.items.map((i) => i.department))].join(', ')})`);
      return 0;
    });
  },
};
