/**
 * Issue 14: B-LT against B-T in the same run. B-LT adds a DSS revision with OCSP responses and a CRL;
 * those are produced ahead and shared (src/pki/revocation-data.ts), so the gap should be the DSS
 * revision, not HSM signatures. Rounds alternate the two levels so a busy machine hurts both alike.
 */
import type { StampRequest } from '../src/stamping/stamper.js';
import { measure, type Measurement } from './measure.js';
import type { BenchContext } from './run.js';

const ROUNDS = 3;

function combined(name: string, parts: Measurement[]): Measurement {
  const ops = parts.reduce((n, m) => n + m.ops, 0);
  const seconds = parts.reduce((n, m) => n + m.seconds, 0);
  const worst = (k: 'p50ms' | 'p99ms') => Math.max(...parts.map((m) => m[k]));
  return { name, ops, seconds, perSecond: ops / seconds, p50ms: worst('p50ms'), p99ms: worst('p99ms'), concurrency: parts[0]!.concurrency };
}

export async function revocationSection(ctx: BenchContext): Promise<void> {
  const onePage = ctx.docs[0]!;
  const stamp = (level: StampRequest['level']) => () =>
    ctx.services.stamper.stamp(onePage.bytes, { sealId: 'approval', placement: { kind: 'position', page: 1, x: 150, y: 60 }, level });
  const signed = () => ctx.services.metrics.revocationSigned.get({ kind: 'ocsp' }) + ctx.services.metrics.revocationSigned.get({ kind: 'crl' });
  const parts: Record<'B-T' | 'B-LT', Measurement[]> = { 'B-T': [], 'B-LT': [] };
  let revocationSignatures = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const level of ['B-T', 'B-LT'] as const) {
      const before = signed();
      parts[level].push(await measure(level, { ops: ctx.n(150), concurrency: 8, warmup: round === 0 ? 5 : 0 }, stamp(level)));
      if (level === 'B-LT') revocationSignatures += signed() - before;
    }
  }
  const bt = combined('stamp 1 page B-T RSA-2048 c=8 (alternating with B-LT)', parts['B-T']);
  const blt = combined('stamp 1 page B-LT RSA-2048 c=8 (alternating with B-T)', parts['B-LT']);
  blt.notes = { revocationSignaturesPerStamp: Number((revocationSignatures / blt.ops).toFixed(3)) };
  ctx.rows.push(bt, blt);
  ctx.targets.push({ description: 'B-LT / B-T stamp rate (1 page, RSA-2048, c=8, same run)', actual: blt.perSecond / bt.perSecond, required: 0.5, kind: 'min' });
}
