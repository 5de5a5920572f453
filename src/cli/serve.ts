import { once } from 'node:events';
import { loadConfig } from '../config.js';
import { startServer } from '../main.js';
import { printResult, type CommandRunner } from './command.js';

export const serve: CommandRunner = {
  async run(ctx) {
    const running = await startServer(loadConfig(ctx.io.env), { prestartWorkers: true });
    printResult(ctx, { url: running.url }, `oneseal: listening on ${running.url}`);
    const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    ctx.io.err(`oneseal: ${String(signal[0] ?? 'signal')} received, closing`);
    await running.close();
    return 0;
  },
};
