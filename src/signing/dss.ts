import { createHash } from 'node:crypto';
import { PdfDict, PdfRef, PdfStream, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import type { IncrementalWriter } from '../pdf/writer.js';
import { DictEdit, appendToArray } from './edit.js';

/** Validation material for one signature (PAdES B-LT): certificates, CRLs and OCSP responses, DER. */
export interface ValidationData {
  certs: readonly Uint8Array[];
  crls: readonly Uint8Array[];
  ocsps: readonly Uint8Array[];
}

/**
 * The /VRI key of a signature (ETSI EN 319 142-1 §5.4.2): uppercase hex SHA-1 of the bytes of its
 * /Contents — the whole reserved string, zero padding included, since that is what validators hash.
 */
export function vriKey(contents: Uint8Array, reserved: number): string {
  const h = createHash('sha1').update(contents);
  if (reserved > contents.length) h.update(Buffer.alloc(reserved - contents.length));
  return h.digest('hex').toUpperCase();
}

const fingerprint = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

const DSS_ARRAYS = [
  ['Certs', 'Cert', 'certs'],
  ['CRLs', 'CRL', 'crls'],
  ['OCSPs', 'OCSP', 'ocsps'],
] as const;

/**
 * Adds (or extends) the catalog's /DSS with `data`, and a /VRI entry tying it to one signature.
 * Items already in the DSS (from an earlier signature) are referenced, not stored again.
 */
export function addDss(reader: PdfReader, writer: IncrementalWriter, catalog: DictEdit, key: string, data: ValidationData): void {
  const dss = DictEdit.child(reader, catalog, 'DSS');
  const vriEntry = new PdfDict();
  for (const [arrayKey, vriKeyName, field] of DSS_ARRAYS) {
    const known = existingStreams(reader, dss.get(arrayKey));
    const refs: PdfRef[] = [];
    const added: PdfRef[] = [];
    for (const der of data[field]) {
      const fp = fingerprint(der);
      let ref = known.get(fp);
      if (!ref) {
        ref = writer.add(new PdfStream(new PdfDict(), der));
        known.set(fp, ref);
        added.push(ref);
      }
      if (!refs.includes(ref)) refs.push(ref);
    }
    if (added.length > 0) appendToArray(reader, writer, dss, arrayKey, added);
    if (refs.length > 0) vriEntry.set(vriKeyName, refs);
  }
  const vri = DictEdit.child(reader, dss, 'VRI');
  vri.set(key, vriEntry);
  vri.commit(writer);
  dss.commit(writer);
}

function existingStreams(reader: PdfReader, arr: PdfValue | undefined): Map<string, PdfRef> {
  const out = new Map<string, PdfRef>();
  const items = reader.resolve(arr);
  if (!Array.isArray(items)) return out;
  for (const item of items) {
    const s = item instanceof PdfRef ? reader.getObject(item) : undefined;
    if (item instanceof PdfRef && s instanceof PdfStream) out.set(fingerprint(reader.decodeStream(s)), item);
  }
  return out;
}
