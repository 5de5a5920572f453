/**
 * node's flags (src/node-flags.ts) reach every way OneSeal is started: bin/oneseal's #! line, which
 * `npm start` and the container's command go through, and the launchers that start node themselves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../src/node-flags.js';
import { repoRoot } from './support/pdfs.js';

const BIN = path.join(repoRoot, 'bin/oneseal');
const dir = mkdtempSync(path.join(tmpdir(), 'oneseal-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node flags', () => {
  it('bin/oneseal, run as a program, starts node with them', () => {
    // A preload that reports node's own arguments and stops before the CLI runs.
    const probe = path.join(dir, 'exec-argv.cjs');
    writeFileSync(probe, 'process.stdout.write(JSON.stringify(process.execArgv)); process.exit(0);\n');
    const r = spawnSync(BIN, ['--help'], { env: { PATH: process.env.PATH, NODE_OPTIONS: `--require ${probe}` }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([...NODE_FLAGS]);
  });

  it('npm start and the container start the server through bin/oneseal', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/&& bin\/oneseal serve$/);
    expect(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8')).toContain('CMD ["bin/oneseal", "serve"]');
  });
});
