/**
 * `oneseal <command> [options]`: finds the command, parses its options with node:util parseArgs
 * and turns failures into a message on stderr and an exit code (2 usage or I/O, 1 failure).
 */
import { parseArgs } from 'node:util';
import { OneSealError } from '../errors.js';
import { auditSignHead } from './audit-sign-head.js';
import { auditVerify } from './audit-verify.js';
import { clientAdd } from './client-add.js';
import { clientGrant } from './client-grant.js';
import { clientList } from './client-list.js';
import { clientRevoke } from './client-revoke.js';
import { printableLines } from '../printable.js';
import { clientRotateKey } from './client-rotate-key.js';
import { clientUngrant } from './client-ungrant.js';
import { UsageError, type CliIo, type Command } from './command.js';
import { promptAtTerminal } from './prompt.js';
import { init } from './init.js';
import { licenceChange } from './licence-change.js';
import { licenceIssue } from './licence-issue.js';
import { licenceRevoke } from './licence-revoke.js';
import { licenceShow } from './licence-show.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { pkiCrl } from './pki-crl.js';
import { pkiStatusList, pkiTrustList } from './pki-lists.js';
import { pkiRoots } from './pki-roots.js';
import { SEAL_COMMANDS } from './seal.js';
import { sealPolicy } from './seal-policy.js';
import { sealTwoPerson } from './seal-two-person.js';
import { serve } from './serve.js';
import { stamp } from './stamp.js';
import { userAdd } from './user-add.js';
import { userDisable } from './user-disable.js';
import { userEnable } from './user-enable.js';
import { userGrant } from './user-grant.js';
import { userList } from './user-list.js';
import { userResetPassword } from './user-reset-password.js';
import { userResetTotp } from './user-reset-totp.js';
import { userUngrant } from './user-ungrant.js';
import { verify } from './verify.js';
import { verifyQrCommand } from './verify-qr.js';
import { whoami } from './whoami.js';

export const COMMANDS: readonly Command[] = [serve, init, pkiRoots, auditVerify, auditSignHead, stamp, verify, loginCommand, logoutCommand, whoami,
  licenceIssue, licenceChange, licenceShow, licenceRevoke, clientAdd, clientList, clientGrant, clientUngrant, clientRotateKey, clientRevoke,
  userAdd, userList, userDisable, userEnable, userGrant, userUngrant, userResetPassword, userResetTotp, pkiCrl, pkiTrustList, pkiStatusList, verifyQrCommand, ...SEAL_COMMANDS, sealPolicy, sealTwoPerson];

const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  ...(process.stdin.isTTY ? { prompt: promptAtTerminal } : {}),
};

function helpText(prefix = ''): string {
  const commands = COMMANDS.filter((c) => c.name.startsWith(prefix));
  const width = Math.max(...commands.map((c) => `${c.name} ${c.usage ?? ''}`.length));
  return [
    'usage: oneseal <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${`${c.name} ${c.usage ?? ''}`.padEnd(width)}  ${c.summary}`),
    '',
    'options for every command:',
    '  --json   machine-readable output on stdout',
    '  --help   this text',
    '',
    'configuration comes from ONESEAL_* environment variables (see src/config.ts).',
  ].join('\n');
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
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

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const json = argv.includes('--json');
  let commandName = 'oneseal';
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help' || argv[0] === '-h') {
      io.out(helpText());
      return argv.length === 0 ? 2 : 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.some((c) => c.name.startsWith(`${argv[0]} `));
      if (group && (argv.length === 1 || argv[1]?.startsWith('-'))) {
        io.out(helpText(`${argv[0]} `));
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
      io.out(`usage: oneseal ${command.name} ${command.usage ?? ''}[--json]\n\n${command.summary}`);
      return 0;
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals, json, io });
  } catch (e) {
    const exit = exitCodeOf(e);
    // Messages can quote a document or certificate (a field name, a subject): never raw control characters.
    const message = printableLines(e instanceof Error ? e.message : String(e));
    if (json) {
      const code = e instanceof OneSealError ? e.code : e instanceof UsageError ? 'usage' : 'error';
      io.err(JSON.stringify({ error: { code, message } }));
    } else {
      io.err(`${commandName}: ${message}${e instanceof UsageError ? "\nRun 'oneseal --help' for the commands." : ''}`);
    }
    // A bug shows its stack, so it can be reported; a person's mistake never does.
    if (exit === 1 && !(e instanceof OneSealError) && e instanceof Error && e.stack) io.err(e.stack);
    return exit;
  }
}
