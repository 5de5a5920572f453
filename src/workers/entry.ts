/**
 * Where a worker's code is. Built (dist/), it is the compiled .js beside this file. Run from the
 * TypeScript sources (vitest), a worker cannot load .ts files, so the worker is bundled once per process
 * with esbuild (which vitest brings along; production never reaches this branch) into node_modules/.cache,
 * where its package imports still resolve.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findPackageRoot } from '../package-root.js';

const bundled = new Map<string, Promise<URL>>();

export function workerEntry(name: string): Promise<URL> {
  if (import.meta.url.endsWith('.js')) return Promise.resolve(new URL(`./${name}.js`, import.meta.url));
  let url = bundled.get(name);
  if (!url) {
    url = (async () => {
      const esbuild = await import('esbuild');
      const outfile = path.join(findPackageRoot(), 'node_modules', '.cache', 'oneseal-workers', `${name}-${process.pid}.mjs`);
      await esbuild.build({
        entryPoints: [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
        bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'silent',
      });
      return pathToFileURL(outfile);
    })();
    bundled.set(name, url);
  }
  return url;
}
