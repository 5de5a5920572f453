/** Signed PDFs kept as rows (licences, stamp outputs): one binary `pdf` column, read only when asked for. */
import type { Db } from './db.js';

/** The `pdf` column of the row of `table` that `where` names, or undefined when there is none. */
export async function pdfColumn(db: Db, table: string, where: Record<string, string>): Promise<Buffer | undefined> {
  const row = await db(table).where(where).first('pdf');
  return row ? Buffer.from(row.pdf as Uint8Array) : undefined;
}
