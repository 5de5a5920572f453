/**
 * The whole of OneSeal in a temp data dir, as `oneseal init` leaves it (SoftHSM token, SQLite, CA
 * under the development root, default seal "approval"), serving HTTP on the port its certificates
 * name: pdfsig follows their OCSP URL online, so OneSeal's own responder answers for its seals.
 * Plus a trust store (the dev root) for the independent checkers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/command.js';
import { loadConfig } from '../../src/config.js';
import { initialise } from '../../src/init.js';
import { DEV_ROOT_CERT_PATH } from '../../src/pki/dev-root.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/main.js';
import type { Services } from '../../src/services.js';
import { pgTestDatabase, PG_URL } from './databases.js';
import { repoRoot } from './pdfs.js';
import { trustStore, type TrustStore } from './validators.js';

export interface Stack {
  dir: string;
  env: NodeJS.ProcessEnv;
  services: Services;
  server: RunningServer;
  trust: TrustStore;
  /** Runs `oneseal …` in-process against this data dir (as whoever `oneseal login` left in the stack's session file). */
  cli(argv: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }>;
  close(): Promise<void>;
}

/** A port free right now: the public URL (written into certificates at init) must name it before the server starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * With ONESEAL_TEST_DATABASE=pg (CI's second pass), each stack keeps its tables in a PostgreSQL schema of
 * its own instead of SQLite, dropped on close; the suites run unchanged against both databases.
 */
function stackDatabase(): { env: NodeJS.ProcessEnv; cleanup(): Promise<void> } {
  const choice = process.env.ONESEAL_TEST_DATABASE;
  if (!choice || choice === 'sqlite') return { env: {}, cleanup: async () => {} };
  if (choice !== 'pg') throw new Error(`ONESEAL_TEST_DATABASE must be "sqlite" or "pg", not "${choice}"`);
  const pg = pgTestDatabase();
  const url = new URL(PG_URL);
  if (pg.database.client === 'pg' && pg.database.schema) url.searchParams.set('schema', pg.database.schema);
  return { env: { ONESEAL_DATABASE_URL: url.href }, cleanup: () => pg.cleanup() };
}

/** `extraEnv`: more ONESEAL_* settings (e.g. rate limits, upload limit) for this stack. */
export async function openStack(extraEnv: NodeJS.ProcessEnv = {}, serverOptions: ServerOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-stack-'));
  const port = String(await freePort());
  const database = stackDatabase();
  const env = {
    ONESEAL_DATA_DIR: dir, ONESEAL_LOG_LEVEL: 'silent', ONESEAL_PORT: port, ONESEAL_PUBLIC_URL: `http://127.0.0.1:${port}`,
    // The CLI's session in the stack's own directory, never the user's config directory.
    ONESEAL_SESSION_FILE: path.join(dir, 'cli-session.json'),
    // Suites log many people in from 127.0.0.1; the per-address login limit has its own test.
    ONESEAL_LOGINS_PER_MINUTE: '100000',
    // Suites change what /healthz checks and look at once; the shared probe has its own test.
    ONESEAL_HEALTH_PROBE_INTERVAL_MS: '0',
    ...database.env, ...extraEnv,
  };
  const config = loadConfig(env);
  delete process.env.SOFTHSM2_CONF; // the data dir's own token store, as `npm run setup` uses
  await initialise(config, () => {});
  const server = await startServer(config, serverOptions);
  const services = server.services;
  const trust = trustStore(DEV_ROOT_CERT_PATH);
  return {
    dir,
    env,
    services,
    server,
    trust,
    async cli(argv, extraEnv = {}) {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: { ...env, ...extraEnv } };
      const code = await main(argv, io);
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
    async close() {
      await server.close();
      trust.dispose();
      rmSync(dir, { recursive: true, force: true });
      await database.cleanup();
    },
  };
}

export const fixturePath = (name: string): string => path.join(repoRoot, 'fixtures', name);
export const fixture = (name: string): Buffer => readFileSync(fixturePath(name));
/** Signed by someone else (EU DSS test data, fixtures/corpus). */
export const OTHER_SIGNER_PDF = path.join(repoRoot, 'fixtures/corpus/eu-dss-pades/validation/pdf-signed-original.pdf');
