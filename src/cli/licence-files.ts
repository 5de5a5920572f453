/** The files `oneseal licence issue|change` read and write: field values in, the signed licence out. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { licenceView, type LicenceDeps } from '../licences/service.js';
import { getLicencePdf, type LicenceRecord } from '../store/licences.js';
import { UsageError } from './command.js';

export async function readLicenceData(dataFile: unknown): Promise<unknown> {
  if (typeof dataFile !== 'string') throw new UsageError('name the JSON file of field values with --data FILE.json');
  try {
    return JSON.parse(await readFile(dataFile, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    throw new UsageError(`${dataFile} is not valid JSON: ${(e as Error).message}`);
  }
}

export function requireOutput(output: unknown): string {
  if (typeof output !== 'string') throw new UsageError('name the output file with -o OUT.pdf');
  return output;
}

/** Writes the recorded PDF next to its final name and renames it, so a failed write never leaves half a licence. */
export async function writeLicence(deps: LicenceDeps, record: LicenceRecord, output: string): Promise<Record<string, unknown>> {
  const pdf = (await getLicencePdf(deps.db, record.id))!;
  await writeFile(`${output}.partial`, pdf);
  await rename(`${output}.partial`, output);
  return { ...licenceView(deps.publicUrl, record), output };
}
