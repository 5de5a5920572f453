/**
 * Validation material in the document security store (/DSS: certificates, CRLs, OCSP responses,
 * including those listed per signature under /VRI). Unreadable entries are skipped: they can only
 * fail to help, never make a signature look better.
 */
import type * as pkijs from 'pkijs';
import { PdfError } from '../errors.js';
import { PdfDict, PdfStream, type PdfValue } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import { parseCrl, parseOcsp, type RevocationEvidence } from './revocation.js';
import { certificateFromDer } from './certs.js';

/** DSS entries read; a real DSS holds dozens, a hostile one could list millions. */
const MAX_ITEMS = 2_000;

export interface DssMaterial {
  certs: pkijs.Certificate[];
  present: boolean;
  /** CRLs and OCSP responses, parsed on first use: large CRLs are slow to parse and only matter once trust is established. */
  evidence(): RevocationEvidence;
}

function streams(reader: PdfReader, v: PdfValue | undefined, out: Uint8Array[]): void {
  const a = reader.resolve(v);
  if (!Array.isArray(a)) return;
  for (const item of a) {
    if (out.length >= MAX_ITEMS) return;
    try {
      const s = reader.resolve(item);
      if (s instanceof PdfStream) out.push(reader.decodeStream(s));
    } catch (e) {
      // Damaged or over a limit: skipped (see module comment); anything else is a bug.
      if (!(e instanceof PdfError)) throw e;
    }
  }
}

export function readDss(reader: PdfReader): DssMaterial {
  const certs: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  const ocsps: Uint8Array[] = [];
  let parsed: RevocationEvidence | undefined;
  const out: DssMaterial = {
    certs: [],
    present: false,
    evidence: () =>
      (parsed ??= {
        crls: crls.map(parseCrl).filter((c) => c !== undefined),
        ocsps: ocsps.map(parseOcsp).filter((o) => o !== undefined),
      }),
  };
  let dss: PdfValue | undefined;
  try {
    dss = reader.resolve(reader.catalog().get('DSS'));
  } catch (e) {
    if (!(e instanceof PdfError)) throw e;
    return out;
  }
  if (!(dss instanceof PdfDict)) return out;
  out.present = true;
  streams(reader, dss.get('Certs'), certs);
  streams(reader, dss.get('CRLs'), crls);
  streams(reader, dss.get('OCSPs'), ocsps);
  const vri = reader.resolve(dss.get('VRI'));
  if (vri instanceof PdfDict) {
    let n = 0;
    for (const [, entry] of vri.entries()) {
      if (++n > MAX_ITEMS) break;
      const e = reader.resolve(entry);
      if (!(e instanceof PdfDict)) continue;
      streams(reader, e.get('Cert'), certs);
      streams(reader, e.get('CRL'), crls);
      streams(reader, e.get('OCSP'), ocsps);
    }
  }
  for (const der of certs) {
    try {
      out.certs.push(certificateFromDer(der));
    } catch {
      /* skipped */
    }
  }
  return out;
}
