import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputAt } from '../fuzz/inputs.js';
import { makeBomb } from '../fuzz/mutators.js';
import { loadSeeds, repoRoot, type SeedDoc } from '../fuzz/seeds.js';
import { openFuzzSigner, type FuzzSigner } from '../fuzz/signer.js';
import { TARGETS, classify, runTarget, targetFunctions, type TargetName, type TargetRun } from '../fuzz/targets.js';
import { PdfError } from '../src/errors.js';

/**
 * A fixed-seed slice of `npm run fuzz`, in process: every input must end in a result or a
 * OneSealError, within the same 5 s the fuzzer allows. The full run (child processes, watchdog,
 * RSS tracking, 10,000 inputs) is `npm run fuzz`.
 */
const SEED = 20261127;
const COUNT = 500;
const LIMIT_MS = 5000;

let seeds: SeedDoc[];
let bomb: Buffer;
let signer: FuzzSigner;
let fns: ReturnType<typeof targetFunctions>;

beforeAll(async () => {
  seeds = loadSeeds();
  // Just past the 64 MiB decode limit: the limit is what is under test, a bigger bomb only costs time here.
  bomb = await makeBomb(65 * 2 ** 20);
  signer = await openFuzzSigner();
  fns = targetFunctions(signer);
});
afterAll(async () => {
  await signer?.close();
});

interface Problem {
  input: string;
  target: TargetName;
  problem: string;
}

/** Runs the targets over one input; returns their outcomes and adds any oracle violation to `problems`. */
async function check(label: string, bytes: Buffer, targets: readonly TargetName[], problems: Problem[]): Promise<TargetRun[]> {
  const runs: TargetRun[] = [];
  for (const target of targets) {
    const run = await runTarget(target, fns[target], bytes);
    if (run.outcome.status === 'failure') problems.push({ input: label, target, problem: run.outcome.error });
    if (run.ms > LIMIT_MS) problems.push({ input: label, target, problem: `took ${run.ms.toFixed(0)} ms` });
    runs.push(run);
  }
  return runs;
}

describe('fuzz harness', () => {
  it('uses every seed document, including the signed corpus files', () => {
    const names = seeds.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['fixtures/pdf13.pdf', 'fixtures/long-30-pages.pdf']));
    expect(seeds.filter((s) => s.signed).length).toBeGreaterThanOrEqual(2);
  });

  it('regenerates the same input from the same seed and index (so failures can be reproduced)', () => {
    for (const i of [0, 17, 499]) expect(inputAt(i, SEED, seeds, bomb).bytes.equals(inputAt(i, SEED, seeds, bomb).bytes)).toBe(true);
    expect(inputAt(1, SEED, seeds, bomb).bytes.equals(inputAt(1, SEED + 1, seeds, bomb).bytes)).toBe(false);
  });

  it('the oracle accepts only OneSealErrors as refusals', () => {
    expect(classify(new PdfError('invalid-pdf', 'x'))).toEqual({ status: 'rejected', code: 'invalid-pdf' });
    expect(classify(new TypeError('boom')).status).toBe('failure');
    expect(classify(new RangeError('Maximum call stack size exceeded')).status).toBe('failure');
    expect(classify('a string').status).toBe('failure');
  });

  it('the signing target really signs an intact document', async () => {
    const run = await runTarget('sign', fns.sign, seeds.find((s) => s.name === 'fixtures/pdf13.pdf')!.bytes);
    expect(run.outcome).toEqual({ status: 'ok' });
  });
});

describe(`${COUNT} fuzz inputs (seed ${SEED})`, () => {
  it('each ends in a result or a OneSealError within 5 s', async () => {
    const problems: Problem[] = [];
    const strategies = new Set<string>();
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < COUNT; i++) {
      const input = inputAt(i, SEED, seeds, bomb);
      strategies.add(input.strategy);
      // One target per input keeps the suite fast on a busy 2-core box; `npm run fuzz` runs all three on each.
      const [run] = await check(`#${i} ${input.strategy} on ${input.source}`, input.bytes, [TARGETS[i % TARGETS.length]!], problems);
      if (run!.outcome.status !== 'failure') outcomes[run!.outcome.status]++;
    }
    expect(problems).toEqual([]);
    // The inputs are hostile but not all hopeless: both outcomes must occur, or the mutators are broken.
    expect(outcomes.ok).toBeGreaterThan(COUNT / 10);
    expect(outcomes.rejected).toBeGreaterThan(COUNT / 20);
    expect(strategies.size).toBeGreaterThanOrEqual(15);
  }, 120_000);
});

describe('saved regressions', () => {
  const dir = join(repoRoot(), 'fixtures', 'regressions');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pdf')).sort() : [];
  for (const file of files) {
    it(file, async () => {
      const problems: Problem[] = [];
      await check(file, readFileSync(join(dir, file)), TARGETS, problems);
      expect(problems).toEqual([]);
    });
  }
});
