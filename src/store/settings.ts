/**
 * Settings the server and the CLI share through the database, e.g. the public URL the running server
 * was configured with: the CLI, started with another environment, reads it instead of guessing.
 */
import type { Db } from './db.js';

export type SettingKey = 'public-url';

export async function getSetting(db: Db, key: SettingKey): Promise<string | undefined> {
  const row = await db('settings').where({ key }).first('value');
  return row ? String(row.value) : undefined;
}

export async function putSetting(db: Db, key: SettingKey, value: string): Promise<void> {
  await db('settings').insert({ key, value, updated_at: new Date().toISOString() }).onConflict('key').merge();
}
