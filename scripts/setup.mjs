#!/usr/bin/env node
// OneSeal set-up: installs what is missing and prepares the dev HSM token, keys, database and default seal.
// Idempotent; with everything in place it only checks (well under 2 s). Plain JS: it runs before the build.
//
//   node scripts/setup.mjs            everything (packages for the service and the tests)
//   node scripts/setup.mjs --quiet    same, printing only what it changes (npm start / npm test use this)
//   node scripts/setup.mjs --runtime  only what the service needs (used by the Docker image)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const runtimeOnly = args.has('--runtime');
const started = Date.now();

const say = (msg) => {
  if (!quiet) console.log(`setup: ${msg}`);
};
const act = (msg) => console.log(`setup: ${msg}`);
const fail = (msg) => {
  console.error(`\nsetup: ${msg}\n`);
  process.exit(1);
};

// Debian package → a file it installs, checked instead of asking dpkg (fast).
const RUNTIME_PACKAGES = {
  softhsm2: '/usr/lib/softhsm/libsofthsm2.so',
  opensc: '/usr/bin/pkcs11-tool',
  'fonts-arphic-gbsn00lp': '/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf',
  openssl: '/usr/bin/openssl',
};
const TEST_PACKAGES = {
  'poppler-utils': '/usr/bin/pdfsig',
  qpdf: '/usr/bin/qpdf',
  'zbar-tools': '/usr/bin/zbarimg',
  'libnss3-tools': '/usr/bin/certutil',
  'fonts-noto-cjk': '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc',
  chromium: '/usr/bin/chromium',
  // the archive test runs `oneseal archive verify` at a later date
  faketime: '/usr/bin/faketime',
  // the fault tests compile a slow PKCS#11 module in front of SoftHSM
  gcc: '/usr/bin/gcc',
  'libc6-dev': '/usr/include/stdio.h',
  // the memory test runs the server with jemalloc preloaded, as the image does
  libjemalloc2: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  // chrt: in-process work puts libuv's pool under SCHED_BATCH, and a test checks it did (essential in Debian)
  'util-linux': '/usr/bin/chrt',
};

function ensurePackages() {
  const wanted = runtimeOnly ? RUNTIME_PACKAGES : { ...RUNTIME_PACKAGES, ...TEST_PACKAGES };
  const missing = Object.entries(wanted)
    .filter(([, file]) => !existsSync(file))
    .map(([pkg]) => pkg);
  if (missing.length === 0) return say('Debian packages present');
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    fail(`missing Debian packages: ${missing.join(', ')}.\nRun as root:\n\n  ${command}\n\nthen run this again.`);
  }
  act(`installing ${missing.join(', ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function ensureNodeModules() {
  const stamp = join(root, 'node_modules', '.oneseal-lock-sha256');
  const lockHash = sha256(join(root, 'package-lock.json'));
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash) return say('node_modules up to date');
  act('installing npm dependencies (npm ci)');
  const args = ['ci', '--no-audit', '--no-fund'];
  if (runtimeOnly) args.push('--omit=dev');
  const r = spawnSync('npm', args, { cwd: root, stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'] });
  if (r.status !== 0) fail('npm ci failed (see above).');
  writeFileSync(stamp, lockHash);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuild() {
  const stamp = join(root, 'dist', '.build-stamp');
  const sources = Math.max(
    newestMtime(join(root, 'src')),
    ...['bench', 'fuzz'].map((dir) => (existsSync(join(root, dir)) ? newestMtime(join(root, dir)) : 0)),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
    statSync(join(root, 'package-lock.json')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return say('build up to date');
  act('building (tsc)');
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  if (!existsSync(tsc)) fail('TypeScript is not installed (run `npm ci` without --omit=dev to build).');
  const r = spawnSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail('the TypeScript build failed (see above).');
  writeFileSync(stamp, new Date().toISOString());
}

function initApp() {
  // Token, dev keys, migrations and the default seal: the app's own idempotent `init`.
  const r = spawnSync(process.execPath, [join(root, 'bin', 'oneseal'), 'init', ...(quiet ? ['--quiet'] : [])], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) fail('`oneseal init` failed (see above).');
}

ensurePackages();
ensureNodeModules();
ensureBuild();
initApp();
say(`ready in ${((Date.now() - started) / 1000).toFixed(2)} s`);
