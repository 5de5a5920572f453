import { readCentres } from '../items/centres.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';

export const centreList: CommandRunner = {
  async run(ctx) {
    return actAs(ctx, async (services, actor) => {
      const centres = await readCentres(services, actor);
      printResult(ctx, { centres }, centres.length === 0 ? 'no centres' : centres.map((c) => `${c.code}  ${c.name}  items: ${c.items.join(',') || '-'}`).join('\n'));
      return 0;
    });
  },
};
