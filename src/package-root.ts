import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout (or installed package) root: the nearest directory with a package.json. Code runs
 * both from src/ (tests) and from dist/src/ (built), so paths to keys-dev/, fixtures/ and var/ are
 * found from here, never relative to the running file.
 */
export function findPackageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
