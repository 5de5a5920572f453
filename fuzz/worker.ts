/**
 * The child process of `npm run fuzz`: runs targets over inputs the parent sends and reports each
 * start and result, so the parent's watchdog knows which input hung or crashed the process.
 */
import { openFuzzSigner, type FuzzSigner } from './signer.js';
import { runTarget, targetFunctions, type TargetName, type TargetRun } from './targets.js';

export type ToWorker = { type: 'input'; index: number; bytes: Uint8Array; targets: TargetName[] };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'start'; index: number; target: TargetName }
  | { type: 'done'; index: number; run: TargetRun; rssMb: number; peakRssMb: number };

const send = (m: FromWorker): void => {
  process.send!(m);
};

async function main(): Promise<void> {
  const wantSign = process.argv.includes('--sign');
  let signer: FuzzSigner | undefined;
  if (wantSign) signer = await openFuzzSigner();
  const fns = targetFunctions(signer);
  // Messages are handled one at a time: the parent sends the next input only after the last "done".
  process.on('message', (m: ToWorker) => {
    void (async () => {
      const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.length);
      for (const target of m.targets) {
        send({ type: 'start', index: m.index, target });
        const run = await runTarget(target, fns[target], bytes);
        send({ type: 'done', index: m.index, run, rssMb: process.memoryUsage().rss / 2 ** 20, peakRssMb: process.resourceUsage().maxRSS / 1024 });
      }
    })();
  });
  process.on('disconnect', () => {
    void signer?.close().finally(() => process.exit(0));
    if (!signer) process.exit(0);
  });
  send({ type: 'ready' });
}

void main();
