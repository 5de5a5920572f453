/** `oneseal --help` text, wrapped to read in an 80-column terminal. */
import type { CommandSpec } from './command.js';

const WIDTH = 80;

/** Greedy word wrap: the first line starts at `first` spaces, the others at `rest`; a word longer than a line stands alone. */
export function wrap(text: string, first: number, rest: number, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = ' '.repeat(first);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(rest);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** The command's words and usage, its continuation lines indented further than the summary below it. */
const entry = (c: CommandSpec): string[] => [...wrap(`${c.name} ${c.usage ?? ''}`, 2, 8), ...wrap(c.summary, 4, 4)];

export function helpText(commands: readonly CommandSpec[], prefix = ''): string {
  return [
    'usage: oneseal <command> [options]',
    '',
    'commands:',
    ...commands.filter((c) => c.name.startsWith(prefix)).flatMap(entry),
    '',
    'options for every command:',
    '  --json   machine-readable output on stdout',
    '  --help   this text',
    '',
    'configuration: ONESEAL_* environment variables (README, "Configuration").',
  ].join('\n');
}

export function commandHelp(c: CommandSpec): string {
  const usage = `${c.name} ${c.usage ?? ''}`.trim();
  return [...wrap(`usage: oneseal ${usage}${usage.includes('--json') ? '' : ' [--json]'}`, 0, 6), '', ...wrap(c.summary, 0, 0)].join('\n');
}
