/**
 * `oneseal user add --name NAME --roles ROLE[,ROLE…]`: a person with roles. Carried out at once it
 * prints, once, {id, name, roles, password (when generated), totpSecret, otpauthUrl}; under two-person
 * control the proposer gets the password and the approver the TOTP secret (src/access/people.ts).
 */
import { requestChange } from '../access/two-person.js';
import { actAs, listFlag, printChange } from './acting.js';
import { UsageError, type CommandRunner } from './command.js';
import { passwordFromFile } from './user-input.js';

export const userAdd: CommandRunner = {
  async run(ctx) {
    const { name } = ctx.values;
    const roles = listFlag(ctx, 'roles');
    if (typeof name !== 'string') throw new UsageError('name the person: --name NAME (a login name, lower case)');
    if (!roles?.length) throw new UsageError('give at least one role: --roles seal-admin,licence-officer,auditor,operator');
    const password = await passwordFromFile(ctx);
    return actAs(ctx, async (services, actor) =>
      printChange(ctx, await requestChange(services, actor, 'person.add', { name, roles, ...(password ? { password } : {}), ...(typeof ctx.values.centre === 'string' ? { centre: ctx.values.centre } : {}) }),
        (r) => `added ${String(r.name)} (${(r.roles as string[]).join(', ')}), id ${String(r.id)}`, { flat: true }));
  },
};
