/**
 * Verification throughput beside the raw RSA-2048 verify rate of Node's crypto in the same run.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { ownVerifyOptions } from '../src/pki/verification.js';
import { signingMaterial } from '../src/seals/service.js';
import { verifyPdf } from '../src/verify/index.js';
import type { BenchContext } from './run.js';
import { measure } from './measure.js';

export async function verifySection(ctx: BenchContext): Promise<void> {
  const { services } = ctx;
  const letter = ctx.docs[0]!.bytes;
  const place = { kind: 'position', page: 1, x: 150, y: 60 } as const;
  const oneBt = (await services.stamper.stamp(letter, { sealId: 'approval', placement: place, level: 'B-T' })).pdf;
  let three = letter as Buffer;
  for (const [sealId, y] of [['approval', 60], ['bench-p256', 120], ['approval', 180]] as const) {
    three = (await services.stamper.stamp(three, { sealId, placement: { ...place, y }, level: 'B-T' })).pdf;
  }
  const options = await ownVerifyOptions(services.store.db);
  for (const [name, doc] of [['1 page B-T', oneBt], ['3 signatures B-T', three]] as const) {
    const check = await verifyPdf(doc, options);
    if (check.verdict !== 'valid') throw new Error(`bench document "${name}" does not verify: ${JSON.stringify(check.signatures.map((s) => s.reasons))}`);
  }

  // The floor for one signature: a single RSA-2048 PKCS#1 v1.5 verification.
  const { key } = await signingMaterial(services, 'approval');
  const data = Buffer.from('bench');
  const digest = createHash('sha256').update(data).digest();
  const signature = await key.signDigest('SHA-256', digest);
  const publicKey = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
  const raw = await measure('Node crypto RSA-2048 verify (raw)', { ops: ctx.n(5000), concurrency: 1 }, async () => {
    if (!verify('sha256', data, publicKey, signature)) throw new Error('raw verify failed');
  });
  ctx.rows.push(raw);
  const one = await measure('verify 1 page B-T (signature + time-stamp + chain + diff)', { ops: ctx.n(1000), concurrency: 8 }, () => verifyPdf(oneBt, options));
  const multi = await measure('verify 3 signatures B-T', { ops: ctx.n(300), concurrency: 8 }, () => verifyPdf(three, options));
  ctx.rows.push(one, multi);
  ctx.targets.push({ description: 'verifications/s, 1-page B-T document', actual: one.perSecond, required: 300, kind: 'min' });
}
