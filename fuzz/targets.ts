import { performance } from 'node:perf_hooks';
import { OneSealError } from '../src/errors.js';
import { PdfReader } from '../src/pdf/reader.js';
import { findText } from '../src/pdf/text.js';
import { signPdf } from '../src/signing/sign-pdf.js';
import { verifyPdf } from '../src/verify/index.js';
import type { FuzzSigner } from './signer.js';

export const TARGETS = ['read', 'verify', 'sign'] as const;
export type TargetName = (typeof TARGETS)[number];

/** Per input and target: done, refused with a OneSealError (both fine), or anything else (a bug). */
export type Outcome = { status: 'ok' } | { status: 'rejected'; code: string } | { status: 'failure'; error: string };

export interface TargetRun {
  target: TargetName;
  outcome: Outcome;
  ms: number;
}

/** A fixed clock, so verification verdicts (and so any failure) do not depend on the day the run happens. */
const VERIFY_AT = new Date('2026-01-01T00:00:00Z');
const SIGNING_TIME = new Date('2026-01-01T00:00:00Z');

function describe(e: unknown): string {
  if (e instanceof Error) {
    const frames = (e.stack ?? '').split('\n').slice(1, 4).map((l) => l.trim());
    return `${e.name}: ${e.message.slice(0, 300)}${frames.length ? ` [${frames.join(' < ')}]` : ''}`;
  }
  return `non-Error thrown: ${String(e).slice(0, 300)}`;
}

/** The oracle: a OneSealError is a correct refusal; any other exception is a failure. */
export function classify(e: unknown): Outcome {
  return e instanceof OneSealError ? { status: 'rejected', code: e.code } : { status: 'failure', error: describe(e) };
}

/** What each target does with the bytes: the same entry points the service uses on uploads. */
export function targetFunctions(signer?: FuzzSigner): Record<TargetName, (bytes: Buffer) => Promise<void>> {
  return {
    async read(bytes) {
      const reader = PdfReader.load(bytes);
      reader.pages();
      findText(reader, 'Signature of the');
    },
    async verify(bytes) {
      await verifyPdf(bytes, { now: VERIFY_AT });
    },
    async sign(bytes) {
      if (!signer) throw new Error('the sign target needs a signer');
      await signPdf(bytes, { signer: signer.signer, certificate: signer.certificate, chain: signer.chain, signingTime: SIGNING_TIME, level: 'B-B' });
    },
  };
}

export async function runTarget(target: TargetName, fn: (bytes: Buffer) => Promise<void>, bytes: Buffer): Promise<TargetRun> {
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    await fn(bytes);
    outcome = { status: 'ok' };
  } catch (e) {
    outcome = classify(e);
  }
  return { target, outcome, ms: performance.now() - t0 };
}
