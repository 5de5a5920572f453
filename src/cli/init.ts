import { loadConfig } from '../config.js';
import { initialise } from '../init.js';
import { printResult, type CommandRunner } from './command.js';

export const init: CommandRunner = {
  async run(ctx) {
    const changes: string[] = [];
    await initialise(loadConfig(ctx.io.env), (change) => {
      changes.push(change);
      if (!ctx.json) ctx.io.out(`oneseal init: ${change}`);
    });
    if (ctx.json) printResult(ctx, { changes }, '');
    else if (changes.length === 0 && !ctx.values.quiet) ctx.io.out('oneseal init: everything is in place');
    return 0;
  },
};
