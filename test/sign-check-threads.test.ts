import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';

/** A worker thread cannot load TypeScript: the test worker is bundled as src/workers/entry.ts bundles the real ones. */
async function bundled(source: string): Promise<URL> {
  const esbuild = await import('esbuild');
  const outfile = path.join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules', '.cache', 'oneseal-test-workers', `sign-check-${process.pid}.mjs`);
  await esbuild.build({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'silent' });
  return pathToFileURL(outfile);
}

it('refuses an ECDSA signature by another key in a worker thread too, where the check runs on the thread itself', async () => {
  const worker = new Worker(await bundled(fileURLToPath(new URL('./support/sign-check-worker.ts', import.meta.url))));
  const [result] = await once(worker, 'message');
  await worker.terminate();
  expect(result).toEqual({ honest: 'signed', confused: 'signature-check-failed' });
});
