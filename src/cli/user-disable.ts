import { disablePerson } from '../access/people.js';
import { ACTING_OPTIONS, ACTING_USAGE, actAs } from './acting.js';
import { printResult, type Command } from './command.js';
import { personName } from './user-input.js';

export const userDisable: Command = {
  name: 'user disable',
  summary: 'disable a person at once: their sessions end and their proposals can no longer be approved',
  usage: `NAME ${ACTING_USAGE}`,
  positionals: 1,
  options: ACTING_OPTIONS,
  async run(ctx) {
    const name = personName(ctx, 'user disable NAME');
    return actAs(ctx, async (services, actor) => {
      const person = await disablePerson(services, actor, { name });
      printResult(ctx, person, `disabled ${person.name} at ${person.disabledAt}`);
      return 0;
    });
  },
};
