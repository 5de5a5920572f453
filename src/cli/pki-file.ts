import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { openServices, type Services } from '../services.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export interface PkiFile {
  bytes: Uint8Array | string;
  /** What --json prints besides the file name. */
  facts: Record<string, unknown>;
  /** The sentence printed after writing it to `out`. */
  text(out: string): string;
}

/** `pki NAME -o FILE`: writes what a public PKI route serves, for relying parties that work offline. */
export function pkiFileRunner(produce: (services: Services) => Promise<PkiFile>): CommandRunner {
  return {
    async run(ctx) {
      const out = ctx.values.out;
      if (typeof out !== 'string' || out === '') throw new UsageError('say where to write it: -o FILE');
      const services = await openServices(loadConfig(ctx.io.env));
      try {
        const file = await produce(services);
        await writeFile(out, file.bytes);
        printResult(ctx, { file: out, ...file.facts }, file.text(out));
        return 0;
      } finally {
        await services.close();
      }
    },
  };
}
