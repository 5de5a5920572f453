import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { assertProductionSafe, DEV_PIN, loadConfig, Secret } from '../src/config.js';
import { OneSealError } from '../src/errors.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'oneseal-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function configError(env: NodeJS.ProcessEnv): OneSealError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof OneSealError) return e;
    throw e;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig defaults', () => {
  it('gives a working development configuration from an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      packageRoot: repoRoot,
      dataDir: path.join(repoRoot, 'var'),
      database: { client: 'sqlite3', filename: path.join(repoRoot, 'var', 'oneseal.db') },
      maxUploadBytes: 50 * 1024 * 1024,
      seal: { orgName: '某某区行政审批局', orgCreditCode: '11110105MB0123456F', sealName: '行政审批专用章' },
      devRootCertPath: path.join(repoRoot, 'keys-dev', 'root-ca.crt.pem'),
    });
    expect(c.hsm).toMatchObject({
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'oneseal-dev',
      devPin: true,
      poolSize: 4,
      timeoutMs: 10_000,
      softhsmConfPath: path.join(repoRoot, 'var', 'hsm', 'softhsm2.conf'),
      softhsmTokensDir: path.join(repoRoot, 'var', 'hsm', 'tokens'),
      manageSofthsmConf: true,
    });
    expect(c.hsm.pin.reveal()).toBe(DEV_PIN);
  });

  it('derives the public URL and database from host, port and data dir', () => {
    const c = loadConfig({ ONESEAL_HOST: '0.0.0.0', ONESEAL_PORT: '9000', ONESEAL_DATA_DIR: tmp, SOFTHSM2_CONF: '/etc/softhsm/softhsm2.conf' });
    expect(c.publicUrl).toBe('http://0.0.0.0:9000');
    expect(c.database).toEqual({ client: 'sqlite3', filename: path.join(tmp, 'oneseal.db') });
    expect(c.hsm.manageSofthsmConf).toBe(false);
  });

  it('reads the sqlite: forms the README shows, and refuses a plain path saying which forms it takes', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const row = readme.split('\n').find((l) => l.startsWith('| `ONESEAL_DATABASE_URL`'))!;
    expect(row).toContain('`sqlite:/abs/path/oneseal.db`');
    expect(row).toContain('`sqlite:relative/oneseal.db`');
    expect(loadConfig({ ONESEAL_DATABASE_URL: `sqlite:${tmp}/a.db` }).database).toEqual({ client: 'sqlite3', filename: `${tmp}/a.db` });
    expect(loadConfig({ ONESEAL_DATABASE_URL: `sqlite://${tmp}/b.db` }).database).toEqual({ client: 'sqlite3', filename: `${tmp}/b.db` });
    expect(loadConfig({ ONESEAL_DATABASE_URL: 'sqlite:rel/c.db' }).database).toEqual({ client: 'sqlite3', filename: path.resolve('rel/c.db') });
    expect(configError({ ONESEAL_DATABASE_URL: `${tmp}/d.db` }).message).toMatch(/ONESEAL_DATABASE_URL.*sqlite:/s);
  });

  it('reads postgres URLs with an optional schema, keeping the URL secret', () => {
    const c = loadConfig({ ONESEAL_DATABASE_URL: 'postgres://u:hunter2@db.example:5432/oneseal?schema=seal_prod' });
    expect(c.database.client).toBe('pg');
    if (c.database.client !== 'pg') return;
    expect(c.database.schema).toBe('seal_prod');
    expect(c.database.url.reveal()).toBe('postgres://u:hunter2@db.example:5432/oneseal');
    expect(JSON.stringify(c)).not.toContain('hunter2');
  });
});

describe('loadConfig validation', () => {
  it('lists every bad variable in one error', () => {
    const e = configError({
      ONESEAL_PORT: '80a',
      ONESEAL_PUBLIC_URL: 'ftp://seal.example',
      ONESEAL_HSM_POOL_SIZE: '0',
      ONESEAL_HSM_TIMEOUT_SECONDS: '0',
      ONESEAL_MAX_UPLOAD_MB: '-5',
      ONESEAL_LOG_LEVEL: 'loud',
      ONESEAL_ORG_CREDIT_CODE: '11110105MB0123456X',
      ONESEAL_DATABASE_URL: 'mysql://x',
    });
    expect(e).toMatchObject({ code: 'invalid-config', kind: 'bad-request' });
    expect(e.fields!.map((f) => f.field).sort()).toEqual([
      'ONESEAL_DATABASE_URL', 'ONESEAL_HSM_POOL_SIZE', 'ONESEAL_HSM_TIMEOUT_SECONDS', 'ONESEAL_LOG_LEVEL', 'ONESEAL_MAX_UPLOAD_MB',
      'ONESEAL_ORG_CREDIT_CODE', 'ONESEAL_PORT', 'ONESEAL_PUBLIC_URL',
    ]);
    expect(e.message).toContain('ONESEAL_PORT: must be a whole number from 0 to 65535, got "80a"');
    expect(e.message).toContain('ONESEAL_LOG_LEVEL');
    expect(e.message).toMatch(/ONESEAL_ORG_CREDIT_CODE: .*check character is wrong: "X" given, .* need "F"/);
  });

  it('takes the legible seal minimum from ONESEAL_MIN_SEAL_MM (default 20 mm) and refuses nonsense', () => {
    expect(loadConfig({}).minSealMm).toBe(20);
    expect(loadConfig({ ONESEAL_MIN_SEAL_MM: '25' }).minSealMm).toBe(25);
    for (const bad of ['0', '2', '101', '20mm', '-20']) {
      expect(configError({ ONESEAL_MIN_SEAL_MM: bad }).fields).toEqual([{ field: 'ONESEAL_MIN_SEAL_MM', message: `must be a whole number from 5 to 100, got "${bad}"` }]);
    }
  });

  it('takes the PDF workers\' nice value from ONESEAL_WORKER_NICE (default 10, 0 to 19)', () => {
    expect(loadConfig({}).workerNice).toBe(10);
    expect(loadConfig({ ONESEAL_WORKER_NICE: '0' }).workerNice).toBe(0);
    for (const bad of ['20', '-1', 'low']) {
      expect(configError({ ONESEAL_WORKER_NICE: bad }).fields).toEqual([{ field: 'ONESEAL_WORKER_NICE', message: `must be a whole number from 0 to 19, got "${bad}"` }]);
    }
  });

  it('says whether the public URL was configured or derived from host and port', () => {
    expect(loadConfig({}).publicUrlConfigured).toBe(false);
    expect(loadConfig({ ONESEAL_PUBLIC_URL: 'https://seal.example.gov.cn' }).publicUrlConfigured).toBe(true);
  });

  it('rejects an out-of-range port and a malformed URL', () => {
    expect(configError({ ONESEAL_PORT: '70000' }).fields).toEqual([
      { field: 'ONESEAL_PORT', message: 'must be a whole number from 0 to 65535, got "70000"' },
    ]);
    expect(configError({ ONESEAL_PUBLIC_URL: 'not a url' }).fields![0]!.field).toBe('ONESEAL_PUBLIC_URL');
    expect(configError({ ONESEAL_PKCS11_MODULE: '/nonexistent/libpkcs11.so' }).message).toContain('no PKCS#11 module at /nonexistent/libpkcs11.so');
  });

  it('reads a JSON config file, env winning, and rejects unknown keys', () => {
    const file = path.join(tmp, 'oneseal.json');
    writeFileSync(file, JSON.stringify({ port: 8443, tokenLabel: 'from-file', dataDir: 'data', sealName: '合同专用章' }));
    const c = loadConfig({ ONESEAL_CONFIG_FILE: file, ONESEAL_TOKEN_LABEL: 'from-env' });
    expect(c).toMatchObject({ port: 8443, dataDir: path.join(tmp, 'data'), configFile: file, seal: { sealName: '合同专用章' } });
    expect(c.hsm.tokenLabel).toBe('from-env');

    writeFileSync(file, JSON.stringify({ prot: 1, port: 'x' }));
    const e = configError({ ONESEAL_CONFIG_FILE: file });
    expect(e.fields!.map((f) => f.field)).toEqual([`${file}: prot`, `${file}: port`]);
  });

  it('reads the PIN from a file and refuses both PIN sources at once', () => {
    const pinFile = path.join(tmp, 'pin');
    writeFileSync(pinFile, 's3cret-pin\n');
    expect(loadConfig({ ONESEAL_PIN_FILE: pinFile }).hsm).toMatchObject({ devPin: false });
    expect(loadConfig({ ONESEAL_PIN_FILE: pinFile }).hsm.pin.reveal()).toBe('s3cret-pin');
    expect(configError({ ONESEAL_PIN_FILE: pinFile, ONESEAL_PIN: 'x' }).message).toContain('not both');
    expect(configError({ ONESEAL_PIN_FILE: path.join(tmp, 'missing') }).message).toContain('ENOENT');
  });
});

describe('secrets', () => {
  it('never prints the PIN through JSON, inspect, template strings or errors', () => {
    const c = loadConfig({ ONESEAL_PIN: 'pin-4711-very-secret' });
    expect(JSON.stringify(c)).not.toContain('pin-4711-very-secret');
    expect(inspect(c, { depth: 10 })).not.toContain('pin-4711-very-secret');
    expect(`${c.hsm.pin}`).toBe('[redacted]');
    expect(JSON.stringify(c)).toContain('"pin":"[redacted]"');
    expect(inspect(new Secret('x'))).toBe('[redacted]');
    expect(c.hsm.pin.reveal()).toBe('pin-4711-very-secret');
  });
});

describe('production', () => {
  const prod = { NODE_ENV: 'production', ONESEAL_PUBLIC_URL: 'https://seal.example.gov.cn', ONESEAL_PIN: 'real-pin-1' };

  it('accepts a real PIN and a public URL', () => {
    const c = loadConfig(prod);
    expect(c.production).toBe(true);
    expect(() => assertProductionSafe(c, { usingDevRoot: false })).not.toThrow();
  });

  it('refuses the development PIN and a loopback public URL, saying why', () => {
    const e = configError({ NODE_ENV: 'production' });
    expect(e.fields!.map((f) => f.field)).toEqual(['ONESEAL_PIN', 'ONESEAL_PUBLIC_URL']);
    expect(e.message).toContain('development PIN');
    expect(e.message).toContain('relying parties');
    expect(e.message).not.toContain(DEV_PIN);
    expect(configError({ ...prod, ONESEAL_PUBLIC_URL: 'http://localhost:8080' }).fields!.map((f) => f.field)).toEqual(['ONESEAL_PUBLIC_URL']);
  });

  it('refuses a token holding the development root', () => {
    const c = loadConfig(prod);
    expect(() => assertProductionSafe(c, { usingDevRoot: true })).toThrow(/refusing to start in production[\s\S]*development root/);
    // Development runs on the dev root by design.
    expect(() => assertProductionSafe(loadConfig({}), { usingDevRoot: true })).not.toThrow();
  });
});
