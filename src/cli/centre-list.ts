import { readCentres } from '../items/centres.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, type Command } from './command.js';

export const centreList: Command = {
  name: 'centre list',
  summary: 'list service centres and the items delegated to each',
  usage: ACTING_USAGE,
  options: ACTING_OPTIONS,
  async run(ctx) {
    return actAs(ctx, async (services, actor) => {
      const centres = await readCentres(services, actor);
      printResult(ctx, { centres }, centres.length === 0 ? 'no centres' : centres.map((c) => `${c.code}  ${c.name}  items: ${c.items.join(',') || '-'}`).join('\n'));
      return 0;
    });
  },
};
