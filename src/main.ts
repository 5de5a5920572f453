/**
 * Wiring: configuration → services (HSM, store, CA) → koa app → HTTP server.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createApp } from './api/app.js';
import type { Config } from './config.js';
import { openServices, type Services } from './services.js';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  // Belt and braces: the PIN is a Secret already, these paths catch a raw value logged by mistake.
  return pino({ level: config.logLevel, redact: ['pin', '*.pin', 'headers.authorization', 'req.headers.authorization'] });
}

export interface RunningServer {
  url: string;
  server: Server;
  services: Services;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config);
  const services = await openServices(config);
  try {
    const app = createApp({ db: services.store.db, hsm: services.hsm, logger, services });
    const server = app.listen(config.port, config.host);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info({ url, publicUrl: config.publicUrl }, 'listening');
    return {
      url,
      server,
      services,
      async close() {
        // Finish requests in flight, drop idle keep-alive connections, then release the HSM and database.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await services.close();
      },
    };
  } catch (e) {
    await services.close();
    throw e;
  }
}
