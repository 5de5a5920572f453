import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SECRET_LABEL, openAccessSecrets } from '../src/access/secrets.js';
import { loadConfig } from '../src/config.js';
import { initialise } from '../src/init.js';
import { derToPem } from '../src/pki/der.js';
import { DEV_ROOT_CERT_PATH } from '../src/pki/dev-root.js';
import { openServices, type Services } from '../src/services.js';
import { activeSealVersion } from '../src/store/seals.js';
import { policyByThread, SCHED_BATCH, SCHED_OTHER, threadPoolIdsMet } from './support/threads.js';

const dataDir = mkdtempSync(join(tmpdir(), 'oneseal-init-'));
const env = { ONESEAL_DATA_DIR: dataDir, ONESEAL_LOG_LEVEL: 'silent' };
const config = loadConfig(env);
const firstRun: string[] = [];
let services: Services;

beforeAll(async () => {
  delete process.env.SOFTHSM2_CONF; // use the data dir's own token store, as `npm run setup` does
  await initialise(config, (c) => firstRun.push(c));
  services = await openServices(config);
});
afterAll(async () => {
  await services?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

describe('oneseal init', () => {
  it('creates the token, the CA keys and the default seal on the first run', () => {
    expect(firstRun.join('\n')).toMatch(/created SoftHSM token/);
    expect(firstRun.join('\n')).toMatch(/root key/);
    expect(firstRun.join('\n')).toMatch(/tsa key/);
    expect(firstRun.join('\n')).toMatch(/ocsp key/);
    expect(firstRun.join('\n')).toMatch(/default seal "approval"/);
  });

  it('changes nothing on a second run', async () => {
    const changes: string[] = [];
    // a second process would open the token afresh; here the same module is already initialised
    await initialise(config, (c) => changes.push(c));
    expect(changes).toEqual([]);
  });

  it('creates the server secret once, as a sensitive, non-extractable HMAC key the services can use', async () => {
    expect(firstRun.join('\n')).toMatch(/created the server secret in the HSM/);
    const ids = await services.hsm.findSecretKeysByLabel(ACCESS_SECRET_LABEL);
    expect(ids).toHaveLength(1);
    expect(await services.hsm.secretKeyProtection(ids[0]!)).toEqual({ sensitive: true, extractable: false, valueReadable: false });
    // The same key gives the same MACs after a restart (keys and sessions survive it).
    const again = await openAccessSecrets(services.hsm);
    expect(again.mac('api-key', 'os_x.y')).toBe(services.secrets.mac('api-key', 'os_x.y'));
    // pkcs11-tool sees it as a secret key and cannot read its value either.
    const listed = execFileSync('pkcs11-tool', ['--module', config.hsm.modulePath, '--token-label', config.hsm.tokenLabel, '--login', '--pin', config.hsm.pin.reveal(),
      '--list-objects', '--type', 'secrkey'], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: config.hsm.softhsmConfPath } });
    expect(listed).toContain(ACCESS_SECRET_LABEL);
    expect(listed).toMatch(/never extractable|sensitive/i);
  });

  it('keeps the imported root key in the HSM as non-extractable', async () => {
    const attrs = await services.hsm.keyAttributes(services.authority.root.signer.id);
    expect(attrs).toEqual({ sensitive: true, extractable: false, valueReadable: false });
    expect(services.authority.usingDevRoot).toBe(true);
  });

  it('issues a seal certificate that openssl verifies against the dev root, Chinese names intact', async () => {
    const version = await activeSealVersion(services.store.db, 'approval');
    const certPath = join(dataDir, 'seal.pem');
    writeFileSync(certPath, derToPem(version!.certificate!, 'CERTIFICATE'));
    expect(openssl(['verify', '-CAfile', DEV_ROOT_CERT_PATH, certPath])).toContain(': OK');
    const subject = openssl(['x509', '-in', certPath, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus']);
    expect(subject).toContain(config.seal.orgName);
    expect(subject).toContain(`${config.seal.orgName}${config.seal.sealName}`);
    expect(subject).toContain(config.seal.orgCreditCode);
    const text = openssl(['x509', '-in', certPath, '-noout', '-text']);
    expect(text).toMatch(/Digital Signature, Non Repudiation/);
    expect(text).toContain('/pki/ocsp');
    expect(text).toContain('/pki/crl/root.crl');
  });

  it('issues TSA and OCSP certificates for their purposes', () => {
    for (const [role, purpose] of [['tsa', 'Time Stamping'], ['ocsp', 'OCSP Signing']] as const) {
      const path = join(dataDir, `${role}.pem`);
      writeFileSync(path, derToPem(services.authority[role].certificate, 'CERTIFICATE'));
      expect(openssl(['verify', '-CAfile', DEV_ROOT_CERT_PATH, path])).toContain(': OK');
      expect(openssl(['x509', '-in', path, '-noout', '-text'])).toContain(purpose);
    }
  });
});

describe('services opened without PDF workers (the CLI, the benchmark)', () => {
  it.runIf(process.platform === 'linux')('run libuv\'s pool under SCHED_BATCH, so a woken pool thread does not preempt the event loop; no other thread', async () => {
    const pool = await threadPoolIdsMet();
    const policy = policyByThread();
    expect(pool.size).toBeGreaterThanOrEqual(1);
    for (const id of pool) expect(policy.get(id)).toBe(SCHED_BATCH);
    expect(policy.get(process.pid)).toBe(SCHED_OTHER);
    const batched = [...policy.values()].filter((p) => p === SCHED_BATCH);
    expect(batched.length).toBeLessThanOrEqual(Number(process.env.UV_THREADPOOL_SIZE) || 4);
    expect(policy.size - batched.length).toBeGreaterThan(1); // V8's helpers among them
  });
});
