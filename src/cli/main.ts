/**
 * `oneseal <command> [options]`: finds the command, parses its options with node:util parseArgs
 * and turns failures into a message on stderr and an exit code (2 usage or I/O, 1 failure).
 */
import { parseArgs } from 'node:util';
import { OneSealError } from '../errors.js';
import { printableLines } from '../printable.js';
import { UsageError, type CliIo, type CommandEntry } from './command.js';
import { commandHelp, helpText } from './help.js';
import { promptAtTerminal } from './prompt.js';
import { COMMANDS } from './registry.js';

const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  ...(process.stdin.isTTY ? { prompt: promptAtTerminal } : {}),
};

function findCommand(argv: string[]): { command: CommandEntry; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/**
 * Usage and I/O problems (wrong input, missing or unreadable files, bad configuration) exit with 2;
 * so does input we cannot work with (not a PDF, encrypted, no such page or anchor): the person must
 * change what they gave, not retry.
 */
const INPUT_ERROR_KINDS: ReadonlySet<string> = new Set(['bad-request', 'not-found', 'unprocessable']);

function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return 2;
  if (e instanceof OneSealError) return INPUT_ERROR_KINDS.has(e.kind) ? 2 : 1;
  const code = (e as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? 2 : 1;
}

/** File-system errors in words, naming the file: the raw errno text reads like a crash. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory, where a file is needed',
  ENOTDIR: 'a part of the path is not a directory',
};

function fileErrorMessage(e: unknown): string | undefined {
  const { code, path } = (e ?? {}) as NodeJS.ErrnoException;
  // Only the file system's own errors: a network error (ECONNREFUSED…) keeps its message.
  const what = code ? FILE_ERRORS[code] : undefined;
  if (!what) return undefined;
  return path ? `${path}: ${what}` : `the path given is ${what}`;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const json = argv.includes('--json');
  let commandName = 'oneseal';
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help' || argv[0] === '-h') {
      io.out(helpText(COMMANDS));
      return argv.length === 0 ? 2 : 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.some((c) => c.name.startsWith(`${argv[0]} `));
      if (group && (argv.length === 1 || argv[1]?.startsWith('-'))) {
        io.out(helpText(COMMANDS, `${argv[0]} `));
        return argv.includes('--help') ? 0 : 2;
      }
      throw new UsageError(`unknown command "${argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}"`);
    }
    const { command, rest } = found;
    commandName = `oneseal ${command.name}`;
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const extra = parsed.positionals[command.positionals ?? 0];
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    if (parsed.values.help) {
      io.out(commandHelp(command));
      return 0;
    }
    const runner = await command.load();
    return await runner.run({ values: parsed.values, positionals: parsed.positionals, json, io });
  } catch (e) {
    const exit = exitCodeOf(e);
    // Messages can quote a document or certificate (a field name, a subject): never raw control characters.
    const fileError = fileErrorMessage(e);
    const message = printableLines(fileError ?? (e instanceof Error ? e.message : String(e)));
    if (json) {
      const code = e instanceof OneSealError ? e.code : e instanceof UsageError ? 'usage' : fileError ? 'file-unreadable' : 'error';
      io.err(JSON.stringify({ error: { code, message } }));
    } else {
      io.err(`${commandName}: ${message}${e instanceof UsageError ? "\nRun 'oneseal --help' for the commands." : ''}`);
    }
    // A bug shows its stack, so it can be reported; a person's mistake never does.
    if (exit === 1 && !(e instanceof OneSealError) && e instanceof Error && e.stack) io.err(e.stack);
    return exit;
  }
}
