/**
 * `oneseal stamp IN.pdf -o OUT.pdf …`: stamps and signs one document with the local HSM and
 * database (no server), and records the stamp in the audit log. It signs with the HSM PIN, outside
 * the policy, so it is a break-glass action by nature: audited as break-glass:<os user>, and refused in
 * production unless ONESEAL_BREAK_GLASS=1 (approval systems stamp through the API with their key).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { actorLabel } from '../access/actors.js';
import { appendAudit } from '../audit/chain.js';
import { loadConfig } from '../config.js';
import { DEFAULT_SEAL_ID } from '../init.js';
import { openServices } from '../services.js';
import type { PadesLevel } from '../signing/sign-pdf.js';
import type { DocMdpPermission } from '../signing/signature-dict.js';
import type { StampPlacement, StampRequest } from '../stamping/stamper.js';
import { breakGlassActor } from './acting.js';
import { printResult, UsageError, type CommandContext, type CommandRunner } from './command.js';

const LEVELS: readonly PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];

function str(ctx: CommandContext, key: string): string | undefined {
  const v = ctx.values[key];
  return typeof v === 'string' ? v : undefined;
}

function num(ctx: CommandContext, key: string): number | undefined {
  const v = str(ctx, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${key} needs a number, not "${v}"`);
  return n;
}

/** Exactly one way of saying where the seal goes; --straddle alone signs with only the paging seal. */
function placementOf(ctx: CommandContext): StampPlacement {
  const page = num(ctx, 'page');
  const x = num(ctx, 'x');
  const y = num(ctx, 'y');
  const anchor = str(ctx, 'anchor');
  const field = str(ctx, 'field');
  const position = page !== undefined || x !== undefined || y !== undefined;
  const given = [position && !anchor, anchor !== undefined, field !== undefined].filter(Boolean).length;
  if (given > 1 || (field !== undefined && position)) {
    throw new UsageError('choose one placement: --page N --x MM --y MM, --anchor TEXT or --field NAME');
  }
  if (anchor !== undefined) {
    if (x !== undefined || y !== undefined) throw new UsageError('--anchor places the seal on the text; drop --x and --y');
    if (anchor === '') throw new UsageError('--anchor needs the text to put the seal on');
    return page === undefined ? { kind: 'anchor', text: anchor } : { kind: 'anchor', text: anchor, page };
  }
  if (field !== undefined) return { kind: 'field', name: field };
  if (position) {
    if (page === undefined || x === undefined || y === undefined) {
      throw new UsageError('a position needs all of --page N --x MM --y MM (the seal centre, in mm from the lower-left corner)');
    }
    return { kind: 'position', page, x, y, unit: 'mm' };
  }
  if (ctx.values.straddle) return { kind: 'invisible' };
  throw new UsageError('say where the seal goes: --page N --x MM --y MM, --anchor TEXT, --field NAME or --straddle');
}

function requestOf(ctx: CommandContext): StampRequest {
  const level = str(ctx, 'level');
  if (level !== undefined && !LEVELS.includes(level as PadesLevel)) {
    throw new UsageError(`--level must be one of ${LEVELS.join(', ')}, not "${level}"`);
  }
  const certify = str(ctx, 'certify');
  if (certify !== undefined && !['1', '2', '3'].includes(certify)) {
    throw new UsageError(`--certify must be 1 (no changes), 2 (form filling and signing) or 3 (also annotations), not "${certify}"`);
  }
  return {
    sealId: str(ctx, 'seal') ?? DEFAULT_SEAL_ID,
    placement: placementOf(ctx),
    straddle: ctx.values.straddle === true,
    level: level as PadesLevel | undefined,
    certify: certify === undefined ? undefined : (Number(certify) as DocMdpPermission),
    reason: str(ctx, 'reason'),
    location: str(ctx, 'location'),
  };
}

export const stamp: CommandRunner = {
  async run(ctx) {
    const [input] = ctx.positionals;
    const output = str(ctx, 'output');
    if (!input) throw new UsageError('name the PDF to stamp: oneseal stamp IN.pdf -o OUT.pdf');
    if (!output) throw new UsageError('name the output file with -o OUT.pdf');
    const request = requestOf(ctx);
    const pdf = await readFile(input);

    const config = loadConfig(ctx.io.env);
    const actor = actorLabel(breakGlassActor(config));
    const services = await openServices(config);
    try {
      const result = await services.stamper.stamp(pdf, request);
      const record = {
        output,
        sha256In: result.sha256In,
        sha256Out: result.sha256Out,
        fieldName: result.fieldName,
        level: result.level,
        signingTime: result.signingTime.toISOString(),
        seal: result.seal,
        placement: request.placement,
        straddle: request.straddle,
        certify: request.certify ?? null,
        placed: result.placed,
      };
      // Recorded before the file is written: the seal key has signed, whether or not the write succeeds.
      await services.store.db.transaction((trx) =>
        appendAudit(trx, { actor, action: 'stamp.create', subject: result.seal.id, details: record }),
      );
      // Written next to its final name and renamed, so a failed write never leaves half a document.
      const partial = `${output}.partial`;
      await writeFile(partial, result.pdf);
      await rename(partial, output);
      const parts = [`seal "${result.seal.id}" v${result.seal.version} (certificate ${result.seal.certSerial})`, `PAdES ${result.level}`];
      if (result.placed) parts.push(`page ${result.placed.page} at [${result.placed.rect.map((v) => v.toFixed(1)).join(' ')}]`);
      if (request.straddle) parts.push('paging seal on every page');
      printResult(ctx, record, [`stamped ${output}: ${parts.join(', ')}`, `sha256 in  ${result.sha256In}`, `sha256 out ${result.sha256Out}`].join('\n'));
      return 0;
    } finally {
      await services.close();
    }
  },
};
