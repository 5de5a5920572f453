/**
 * node's flags and environment (src/node-flags.ts) reach the server as an operator starts it: through
 * bin/oneseal's #! line, which `npm start` (and so the container's command) goes through. The
 * benchmark's and the child-process tests' launchers, which start node themselves, pass NODE_FLAGS and
 * NODE_ENV_VARS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_ENV_VARS, NODE_FLAGS } from '../src/node-flags.js';
import { repoRoot } from './support/pdfs.js';

const BIN = path.join(repoRoot, 'bin/oneseal');
const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node flags', () => {
  it('bin/oneseal, run as a program, starts node with them', () => {
    // A preload that reports node's own arguments and environment, and stops before the CLI runs.
    const probe = path.join(dir, 'exec-argv.cjs');
    writeFileSync(probe, `process.stdout.write(JSON.stringify({ argv: process.execArgv, env: { ${Object.keys(NODE_ENV_VARS).map((k) => `${k}: process.env.${k}`).join(', ')} } })); process.exit(0);\n`);
    const r = spawnSync(BIN, ['--help'], { env: { PATH: process.env.PATH, NODE_OPTIONS: `--require ${probe}` }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ argv: [...NODE_FLAGS], env: NODE_ENV_VARS });
  });

  // The image runs what `npm start` runs (test/dockerfile.test.ts), so it goes through the same line.
  it('npm start starts the server through bin/oneseal, not through node', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/&& bin\/oneseal serve$/);
  });
});
