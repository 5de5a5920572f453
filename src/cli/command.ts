import type { ParseArgsConfig } from 'node:util';
import { printableJson, printableLines } from '../printable.js';

/** Where a command writes: injectable so tests run commands in-process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Asks a person at a terminal (a secret is not echoed); absent when nobody can answer (tests, pipes). */
  prompt?(question: string, options: { secret: boolean }): Promise<string>;
}

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** --json: machine-readable output on stdout. */
  json: boolean;
  io: CliIo;
}

/** What the registry (src/cli/registry.ts) knows of a command without loading it. */
export interface CommandSpec {
  /** Words as typed: 'serve', 'pki roots'. */
  name: string;
  summary: string;
  /** Shown after the name in help, e.g. '[--quiet]'. */
  usage?: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments (e.g. file names) the command takes; default none. */
  positionals?: number;
}

/** A command's implementation, in a module of its own. */
export interface CommandRunner {
  /** Returns the exit code: 0 done, 1 the thing checked or attempted failed. */
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandEntry extends CommandSpec {
  /** Imports the command's module: only when the command runs, so help and other commands stay fast. */
  load(): Promise<CommandRunner>;
}

/** Wrong words or options: exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Output may carry names from certificates and documents: no control character of theirs reaches the terminal. */
export function printResult(ctx: CommandContext, json: unknown, text: string): void {
  ctx.io.out(ctx.json ? printableJson(json) : printableLines(text));
}
