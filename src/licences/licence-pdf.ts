/**
 * The PDF of one licence version before it is sealed: rendered with the QR square blank (the first
 * revision), the QR payload completed with that revision's hash and signed, and the signed QR code drawn
 * by an incremental update (src/licences/qr-update.ts). Everything here but the signature is CPU work on
 * the document, so the server runs it in a worker thread and the signature is asked of the main thread,
 * which holds the HSM sessions. The task is plain data for that reason.
 */
import { createHash } from 'node:crypto';
import { createSign1 } from '../cose/sign1.js';
import { encodeQrPayload, qrText, type QrPayload } from './qr-payload.js';
import { addQrUpdate, withFinalEol } from './qr-update.js';
import { renderLicence, verificationUrl, type LicenceRenderInput, type PdfRect } from './render.js';

export interface LicencePdfTask {
  render: Omit<LicenceRenderInput, 'qrText'>;
  /** The moment of issue, the document's creation date. */
  now: Date;
  /** The QR payload; its `pdf` is filled in here. */
  payload: QrPayload;
  /** The QR signing key's identifier. */
  kid: Uint8Array;
}

export interface LicencePdf {
  pdf: Uint8Array;
  /** Where the seal goes. */
  sealRect: PdfRect;
}

/** `sign`: raw ES256 over the COSE to-be-signed bytes (LicenceQrSigner.sign). */
export async function licencePdf(task: LicencePdfTask, sign: (toBeSigned: Uint8Array) => Promise<Uint8Array>): Promise<LicencePdf> {
  const url = verificationUrl(task.render.publicBaseUrl, task.render.licenceId);
  // Signed payloads have a fixed length, so a stand-in of zeros lays the page out for the real QR code.
  const standIn = qrText(url, await createSign1(encodeQrPayload(task.payload), task.kid, async () => new Uint8Array(64)));
  const rendered = await renderLicence({ ...task.render, qrText: standIn }, { now: task.now, reserveQr: true });
  const firstRevision = withFinalEol(rendered.pdf);
  const payload: QrPayload = { ...task.payload, pdf: new Uint8Array(createHash('sha256').update(firstRevision).digest()) };
  const qr = qrText(url, await createSign1(encodeQrPayload(payload), task.kid, sign));
  return { pdf: addQrUpdate(firstRevision, qr, rendered.qrRect), sealRect: rendered.sealRect };
}
