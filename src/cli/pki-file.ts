import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { openServices, type Services } from '../services.js';
import { printResult, UsageError, type Command } from './command.js';

export interface PkiFile {
  bytes: Uint8Array | string;
  /** What --json prints besides the file name. */
  facts: Record<string, unknown>;
  /** The sentence printed after writing it to `out`. */
  text(out: string): string;
}

/** `pki NAME -o FILE`: writes what a public PKI route serves, for relying parties that work offline. */
export function pkiFileCommand(name: string, summary: string, produce: (services: Services) => Promise<PkiFile>): Command {
  return {
    name: `pki ${name}`,
    summary,
    usage: '-o FILE ',
    options: { out: { type: 'string', short: 'o' } },
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
