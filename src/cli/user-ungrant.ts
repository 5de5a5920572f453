import { ungrantRoles } from '../access/people.js';
import { actAs, listFlag } from './acting.js';
import { printResult, UsageError, type CommandRunner } from './command.js';
import { personName } from './user-input.js';

export const userUngrant: CommandRunner = {
  async run(ctx) {
    const name = personName(ctx, 'user ungrant NAME --roles ROLE[,ROLE…]');
    const roles = listFlag(ctx, 'roles');
    if (!roles?.length) throw new UsageError('name the roles: --roles ROLE[,ROLE…]');
    return actAs(ctx, async (services, actor) => {
      const person = await ungrantRoles(services, actor, { name, roles });
      printResult(ctx, person, `${person.name} now has ${person.roles.join(', ') || 'no roles'}`);
      return 0;
    });
  },
};
