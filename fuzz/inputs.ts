import { GENERATORS } from './generators.js';
import { BYTE_MUTATORS, STRUCTURE_MUTATORS, type Mutator } from './mutators.js';
import { Rng } from './rng.js';
import type { SeedDoc } from './seeds.js';

export interface FuzzInput {
  index: number;
  /** Mutator or generator name. */
  strategy: string;
  /** Seed document it was derived from ("-" for generated inputs). */
  source: string;
  bytes: Buffer;
}

/**
 * Input `index` of the run with `seed`: a pure function of the two numbers, so the parent can
 * regenerate (and save) an input whose child process died on it.
 */
export function inputAt(index: number, seed: number, seeds: SeedDoc[], bomb: Buffer): FuzzInput {
  const rng = Rng.forInput(seed, index);
  const roll = rng.next();
  if (roll < 0.15) {
    const g = rng.pick(GENERATORS);
    return { index, strategy: g.name, source: '-', bytes: g.generate(rng) };
  }
  const pool: Mutator[] = roll < 0.6 ? BYTE_MUTATORS : STRUCTURE_MUTATORS;
  const m = rng.pick(pool);
  const doc = rng.pick(seeds);
  return { index, strategy: m.name, source: doc.name, bytes: m.apply({ seed: doc, rng, bomb }) };
}
