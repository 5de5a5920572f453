import { readItems } from '../items/catalogue.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';

export const itemList: CommandRunner = {
  async run(ctx) {
    const department = typeof ctx.values.department === 'string' ? ctx.values.department : undefined;
    return actAs(ctx, async (services, actor) => {
      const items = await readItems(services, actor, department ? { department } : {});
      printResult(ctx, { items }, items.length === 0 ? 'no items' : items.map((i) =>
        `${i.code}  ${i.name}  [${i.department}]  seal ${i.profile.seal}  ${i.profile.placement}${i.licenceType ? `  issues ${i.licenceType}` : ''}`).join('\n'));
      return 0;
    });
  },
};
