import { readItems } from '../items/catalogue.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, type Command } from './command.js';

export const itemList: Command = {
  name: 'item list',
  summary: 'list the item catalogue with each item\'s stamp profile',
  usage: `[--department DEPT] ${ACTING_USAGE}`,
  options: { department: { type: 'string' }, ...ACTING_OPTIONS },
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
