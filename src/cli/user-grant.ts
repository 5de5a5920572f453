import { requestChange } from '../access/two-person.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs, listFlag, printChange } from './acting.js';
import { UsageError, type Command } from './command.js';
import { personName } from './user-input.js';

export const userGrant: Command = {
  name: 'user grant',
  summary: 'give a person more roles (under two-person control)',
  usage: `NAME --roles ROLE[,ROLE…] ${ACTING_USAGE}`,
  positionals: 1,
  options: { roles: { type: 'string' }, ...ACTING_OPTIONS },
  async run(ctx) {
    const name = personName(ctx, 'user grant NAME --roles ROLE[,ROLE…]');
    const roles = listFlag(ctx, 'roles');
    if (!roles?.length) throw new UsageError('name the roles: --roles ROLE[,ROLE…]');
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.grant', { name, roles }), (r) => `${String(r.name)} now has ${(r.roles as string[]).join(', ')}`, { flat: true }));
  },
};
