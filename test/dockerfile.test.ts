import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Docker cannot run on the development machines, so the image is kept honest by reading it.
const root = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('Dockerfile', () => {
  it('copies only paths that exist in the checkout', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) expect(existsSync(join(root, src)), `${src} exists`).toBe(true);
  });

  it('runs what `npm start` runs, without the set-up step', () => {
    const cmd = JSON.parse(dockerfile.match(/^CMD (\[.*\])$/m)![1]!) as string[];
    const start = pkg.scripts.start.split('&&').map((s: string) => s.trim());
    expect(start.at(-1)).toBe(cmd.join(' '));
  });

  it('is a Node 20 bookworm-slim image running as a non-root user with a health check on /healthz', () => {
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^USER (?!root)\w+$/m);
    expect(dockerfile).toMatch(/npm (ci|prune) .*--omit=dev/);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(dockerfile).toMatch(/ENV NODE_ENV=production/);
  });

  it('runs Node with jemalloc, which gives the memory of replaced worker threads back (README: memory after a heavy request)', () => {
    expect(dockerfile).toMatch(/apt-get install [^\n]*libjemalloc2/);
    expect(dockerfile).toMatch(/^\s*LD_PRELOAD=\/usr\/local\/lib\/libjemalloc\.so\.2/m);
  });
});
