/**
 * Row ↔ record conversion, declared once per table. The schema stores portable types
 * (text, integers, 0/1 or booleans); records use JS types, so callers never see which database runs.
 */
export interface Codec<T> {
  toDb(value: T): unknown;
  fromDb(value: unknown): T;
}

export const text: Codec<string> = { toDb: (v) => v, fromDb: (v) => String(v) };

/** Integers; PostgreSQL returns bigint columns as strings. */
export const int: Codec<number> = { toDb: (v) => v, fromDb: (v) => Number(v) };

export const bool: Codec<boolean> = { toDb: (v) => v, fromDb: (v) => v === true || v === 1 || v === '1' };

/** JSON kept as text, not a native json column, so both databases hold and return the same thing. */
export function json<T>(): Codec<T> {
  return { toDb: (v) => JSON.stringify(v), fromDb: (v) => JSON.parse(String(v)) as T };
}

/** DER and other binary values as base64 text (one representation for both databases). */
export const bytes: Codec<Uint8Array> = {
  toDb: (v) => Buffer.from(v).toString('base64'),
  fromDb: (v) => new Uint8Array(Buffer.from(String(v), 'base64')),
};

export function nullable<T>(codec: Codec<T>): Codec<T | null> {
  return {
    toDb: (v) => (v === null ? null : codec.toDb(v)),
    fromDb: (v) => (v === null || v === undefined ? null : codec.fromDb(v)),
  };
}

export type Columns<T> = { [K in keyof T]-?: readonly [column: string, codec: Codec<T[K]>] };

export interface Mapper<T> {
  /** Only the properties present are converted, so it serves inserts and partial updates. */
  toRow(record: Partial<T>): Record<string, unknown>;
  fromRow(row: Record<string, unknown>): T;
}

export function mapper<T>(columns: Columns<T>): Mapper<T> {
  const entries = Object.entries(columns) as [keyof T & string, readonly [string, Codec<unknown>]][];
  return {
    toRow(record) {
      const row: Record<string, unknown> = {};
      for (const [key, [column, codec]] of entries) {
        if (record[key] !== undefined) row[column] = codec.toDb(record[key]);
      }
      return row;
    },
    fromRow(row) {
      const record = {} as Record<string, unknown>;
      for (const [key, [column, codec]] of entries) record[key] = codec.fromDb(row[column]);
      return record as T;
    },
  };
}

export function nowIso(): string {
  return new Date().toISOString();
}
