import type { Knex } from 'knex';
import * as m001 from './001-initial.js';
import * as m002 from './002-lifecycle.js';
import * as m003 from './003-stamp-api.js';
import * as m004 from './004-licences.js';
import * as m005 from './005-people-and-access.js';
import * as m006 from './006-revocation-cache.js';
import * as m007 from './007-newcomer-fixes.js';
import * as m008 from './008-archive.js';
import * as m009 from './009-licence-qr-keys.js';
import * as m010 from './010-items-and-centres.js';
import * as m011 from './011-search-indexes.js';
import * as m012 from './012-stamp-scope-indexes.js';
import * as m013 from './013-stamp-outputs.js';
import * as m014 from './014-partial-stamp-indexes.js';

interface MigrationModule {
  name: string;
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

/** Every migration, oldest first. Imported statically so they run the same from TS (vitest) and compiled JS. */
export const migrations: readonly MigrationModule[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011, m012, m013, m014];

export const migrationSource: Knex.MigrationSource<MigrationModule> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: m.up, down: m.down }),
};
