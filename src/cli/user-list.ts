import { readPeople } from '../access/people.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';

export const userList: CommandRunner = {
  async run(ctx) {
    return actAs(ctx, async (services, actor) => {
      const people = await readPeople(services, actor);
      printResult(ctx, { people }, people.map((p) =>
        `${p.name.padEnd(20)} ${p.roles.join(',').padEnd(40)} ${p.disabled ? `DISABLED ${p.disabledAt}` : 'enabled'}${p.totpEnrolled ? '' : '  (no TOTP)'}`).join('\n') || 'no people yet: oneseal user add --name NAME --roles seal-admin --break-glass');
      return 0;
    });
  },
};
