import { writeFile } from 'node:fs/promises';
import { loadConfig } from '../config.js';
import { currentCrl } from '../pki/services.js';
import { openServices } from '../services.js';
import { printResult, UsageError, type CommandRunner } from './command.js';

export const pkiCrl: CommandRunner = {
  async run(ctx) {
    const out = ctx.values.out;
    if (typeof out !== 'string' || out === '') throw new UsageError('say where to write it: -o FILE');
    const services = await openServices(loadConfig(ctx.io.env));
    try {
      const crl = await currentCrl(services);
      await writeFile(out, crl.der);
      printResult(
        ctx,
        { file: out, crlNumber: crl.crlNumber, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString(), bytes: crl.der.length },
        `wrote CRL number ${crl.crlNumber} to ${out} (valid until ${crl.nextUpdate.toISOString()})`,
      );
      return 0;
    } finally {
      await services.close();
    }
  },
};
