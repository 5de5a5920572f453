/** `oneseal whoami`: the person this CLI acts as, and what the policy lets them do. */
import { actorLabel } from '../access/actors.js';
import { ACTIONS, allows } from '../access/policy.js';
import { actAs } from './acting.js';
import { printResult, type CommandRunner } from './command.js';

export const whoami: CommandRunner = {
  async run(ctx) {
    return actAs(ctx, async (_services, actor) => {
      const allowed = ACTIONS.filter((a) => allows(actor, a));
      printResult(ctx, { actor: actorLabel(actor), ...(actor.kind === 'person' ? { roles: actor.roles } : {}), allowed },
        `${actorLabel(actor)}${actor.kind === 'person' ? ` (${actor.roles.join(', ')})` : ''}\nmay: ${allowed.join(', ')}`);
      return 0;
    });
  },
};
