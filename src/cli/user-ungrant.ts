import { ungrantRoles } from '../access/people.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, listFlag } from './acting.js';
import { printResult, UsageError, type Command } from './command.js';
import { personName } from './user-input.js';

export const userUngrant: Command = {
  name: 'user ungrant',
  summary: 'take roles from a person (at once)',
  usage: `NAME --roles ROLE[,ROLE…] ${ACTING_USAGE}`,
  positionals: 1,
  options: { roles: { type: 'string' }, ...ACTING_OPTIONS },
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
