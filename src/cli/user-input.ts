/** What the user commands read from their arguments. */
import { readFile } from 'node:fs/promises';
import { UsageError, type CommandContext } from './command.js';

/** The password in --password-file (its trailing newline dropped), or undefined to have one generated. */
export async function passwordFromFile(ctx: CommandContext): Promise<string | undefined> {
  const file = ctx.values['password-file'];
  return typeof file === 'string' ? (await readFile(file, 'utf8')).replace(/\r?\n$/, '') : undefined;
}

export function personName(ctx: CommandContext, usage: string): string {
  const [name] = ctx.positionals;
  if (!name) throw new UsageError(`name the person: oneseal ${usage}`);
  return name;
}
