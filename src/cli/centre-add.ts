import { addCentre } from '../items/centres.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, UsageError, type Command } from './command.js';

export const centreAdd: Command = {
  name: 'centre add',
  summary: 'add a town service centre (便民服务中心); it handles only the items later delegated to it',
  usage: `--code CODE --name NAME ${ACTING_USAGE}`,
  options: { code: { type: 'string' }, name: { type: 'string' }, ...ACTING_OPTIONS },
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
