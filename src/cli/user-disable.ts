import { disablePerson } from '../access/people.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';
import { personName } from './user-input.js';

export const userDisable: CommandRunner = {
  async run(ctx) {
    const name = personName(ctx, 'user disable NAME');
    return actAs(ctx, async (services, actor) => {
      const person = await disablePerson(services, actor, { name });
      printResult(ctx, person, `disabled ${person.name} at ${person.disabledAt}`);
      return 0;
    });
  },
};
