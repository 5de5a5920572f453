import { addCentre } from '../items/centres.js';
import { actAs } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const centreAdd: CommandRunner = {
  async run(ctx) {
    const { code, name } = ctx.values;
    if (typeof code !== 'string' || typeof name !== 'string') throw new UsageError('give the centre a code and a name: --code CODE --name NAME');
    return actAs(ctx, async (services, actor) => {
      const centre = await addCentre(services, actor, { code, name });
      printResult(ctx, centre, `added centre ${centre.code} (${centre.name})`);
      return 0;
    });
  },
};
