import { readPeople } from '../access/people.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, type Command } from './command.js';

export const userList: Command = {
  name: 'user list',
  summary: 'list people, their roles and whether they are enabled',
  usage: ACTING_USAGE,
  options: ACTING_OPTIONS,
  async run(ctx) {
    return actAs(ctx, async (services, actor) => {
      const people = await readPeople(services, actor);
      printResult(ctx, { people }, people.map((p) =>
        `${p.name.padEnd(20)} ${p.roles.join(',').padEnd(40)} ${p.disabled ? `DISABLED ${p.disabledAt}` : 'enabled'}${p.totpEnrolled ? '' : '  (no TOTP)'}`).join('\n') || 'no people yet: oneseal user add --name NAME --roles seal-admin --break-glass');
      return 0;
    });
  },
};
