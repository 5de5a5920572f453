import { PdfDict, PdfName, PdfString } from '../pdf/objects.js';
import { byteRangePlaceholder, contentsPlaceholder } from './placeholder.js';

/** ISO 32000 date string "D:YYYYMMDDHHmmSS+HH'mm'" for the instant `date` shown at `utcOffsetMinutes`. */
export function pdfDate(date: Date, utcOffsetMinutes = 0): string {
  const local = new Date(date.getTime() + utcOffsetMinutes * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const off = Math.abs(utcOffsetMinutes);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  return (
    `D:${p(local.getUTCFullYear(), 4)}${p(local.getUTCMonth() + 1)}${p(local.getUTCDate())}` +
    `${p(local.getUTCHours())}${p(local.getUTCMinutes())}${p(local.getUTCSeconds())}` +
    `${sign}${p(Math.floor(off / 60))}'${p(off % 60)}'`
  );
}

export type DocMdpPermission = 1 | 2 | 3;

export interface SignatureDictOptions {
  /** Bytes reserved for the CMS in /Contents. */
  contentsSize: number;
  signingTime: Date;
  utcOffsetMinutes?: number;
  reason?: string;
  location?: string;
  contactInfo?: string;
  /** Makes this a certification signature with this DocMDP permission. */
  certify?: DocMdpPermission;
}

/**
 * A PAdES signature dictionary with placeholders for /ByteRange and /Contents. /ByteRange comes
 * before /Contents so the gap follows every signed value of the dictionary.
 */
export function signatureDict(o: SignatureDictOptions): PdfDict {
  const d = new PdfDict({
    Type: PdfName.of('Sig'),
    Filter: PdfName.of('Adobe.PPKLite'),
    SubFilter: PdfName.of('ETSI.CAdES.detached'),
    ByteRange: byteRangePlaceholder(),
    Contents: contentsPlaceholder(o.contentsSize),
    M: PdfString.literal(pdfDate(o.signingTime, o.utcOffsetMinutes)),
  });
  if (o.reason) d.set('Reason', PdfString.text(o.reason));
  if (o.location) d.set('Location', PdfString.text(o.location));
  if (o.contactInfo) d.set('ContactInfo', PdfString.text(o.contactInfo));
  if (o.certify) {
    d.set('Reference', [
      new PdfDict({
        Type: PdfName.of('SigRef'),
        TransformMethod: PdfName.of('DocMDP'),
        TransformParams: new PdfDict({ Type: PdfName.of('TransformParams'), P: o.certify, V: PdfName.of('1.2') }),
      }),
    ]);
  }
  d.set('Prop_Build', new PdfDict({ App: new PdfDict({ Name: PdfName.of('OneSeal') }) }));
  return d;
}

/** A document time-stamp dictionary (PAdES B-LTA): /Contents will hold the bare RFC 3161 token. */
export function docTimeStampDict(contentsSize: number): PdfDict {
  return new PdfDict({
    Type: PdfName.of('DocTimeStamp'),
    Filter: PdfName.of('Adobe.PPKLite'),
    SubFilter: PdfName.of('ETSI.RFC3161'),
    ByteRange: byteRangePlaceholder(),
    Contents: contentsPlaceholder(contentsSize),
  });
}
