import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from './package-root.js';

/** The package.json version, read once (shown in /openapi.json and `oneseal --version`). */
export const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(findPackageRoot(), 'package.json'), 'utf8')).version;
