/**
 * Who a CLI command acts as. Seal, client, user and licence commands act as the person logged in with
 * `oneseal login` (the session kept in the user's session file), through the same services and policy
 * as the API. The PIN holder on the server may instead pass --break-glass: the command then acts as
 * `break-glass:<os user>` outside the policy and runs at once, because whoever holds the PIN can use
 * the HSM keys anyway; production refuses it unless ONESEAL_BREAK_GLASS=1 is set.
 */
import { userInfo } from 'node:os';
import type { Actor, BreakGlassActor } from '../access/actors.js';
import { authenticateSession } from '../access/sessions.js';
import { outcomeView, type ChangeOutcome } from '../access/two-person.js';
import { loadConfig, type Config } from '../config.js';
import { OneSealError } from '../errors.js';
import { openServices, type Services } from '../services.js';
import { printResult, type CommandContext } from './command.js';
import { readSessionFile } from './session-file.js';

/** The operating-system account, for the audit trail (containers may have no passwd entry). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The PIN holder acting outside the policy; refused in production unless ONESEAL_BREAK_GLASS=1. */
export function breakGlassActor(config: Config): BreakGlassActor {
  if (config.production && !config.breakGlassAllowed) {
    throw new OneSealError('break-glass-refused', 'forbidden',
      'Production refuses break-glass commands unless ONESEAL_BREAK_GLASS=1 is set for this one command: log in as a person (oneseal login) to act under the policy and two-person control.');
  }
  return { kind: 'break-glass', osUser: osUser() };
}

async function personActor(config: Config, services: Services): Promise<Actor> {
  const stored = readSessionFile(config.cliSessionFile);
  if (!stored) {
    throw new OneSealError('not-logged-in', 'unauthorized',
      'Log in first: oneseal login --name NAME (the PIN holder on this server may instead add --break-glass, which is audited and refused in production without ONESEAL_BREAK_GLASS=1).');
  }
  return authenticateSession(services, stored.token);
}

/** Opens the services and runs `fn` as the logged-in person, or as break-glass with --break-glass. */
export async function actAs<T>(ctx: CommandContext, fn: (services: Services, actor: Actor) => Promise<T>): Promise<T> {
  const config = loadConfig(ctx.io.env);
  // Refused before anything is opened: a refused break-glass touches neither HSM nor database.
  const breakGlass = ctx.values['break-glass'] === true ? breakGlassActor(config) : undefined;
  const services = await openServices(config);
  try {
    const actor = breakGlass ?? (await personActor(config, services));
    return await fn(services, actor);
  } finally {
    await services.close();
  }
}

/** Lines for secrets a change made for whoever carried it out: shown once, here. */
export function secretLines(values: Record<string, unknown>): string[] {
  const lines: string[] = [];
  if (typeof values.password === 'string') lines.push(`password (shown only now; pass it on safely): ${values.password}`);
  if (typeof values.totpSecret === 'string') lines.push(`TOTP secret (shown only now; for the person's authenticator app): ${values.totpSecret}`, `  ${String(values.otpauthUrl)}`);
  if (typeof values.key === 'string') lines.push(`API key (shown only now; store it safely):\n${values.key}`);
  return lines;
}

/**
 * Prints what a change request did: carried out (the result; `flat` prints the result itself as JSON),
 * or proposed (the proposal, and anything disclosed to the proposer).
 */
export function printChange(ctx: CommandContext, outcome: ChangeOutcome, describe: (result: Record<string, unknown>) => string, options: { flat?: boolean } = {}): number {
  if (outcome.executed) {
    const text = [describe(outcome.result), ...secretLines(outcome.result)].join('\n');
    printResult(ctx, options.flat ? outcome.result : outcomeView(outcome), text);
    return 0;
  }
  const { proposal } = outcome;
  const text = [
    `proposed ${proposal.action} of ${proposal.subject} as proposal ${proposal.id} (two-person control).`,
    `A different seal-admin must approve it: oneseal seal approve ${proposal.id}`,
    ...secretLines(outcome.disclosed ?? {}),
  ].join('\n');
  printResult(ctx, outcomeView(outcome), text);
  return 0;
}

/** A comma-separated flag as a list ("a, b" → ['a','b']); undefined when the flag is absent. */
export function listFlag(ctx: CommandContext, key: string): string[] | undefined {
  const v = ctx.values[key];
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}
