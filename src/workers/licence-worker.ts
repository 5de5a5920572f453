/** The PDF work of issuing a licence (src/licences/licence-pdf.ts) in a worker thread; the QR signature is asked of the main thread. */
import { licencePdf, type LicencePdfTask } from '../licences/licence-pdf.js';
import type { CallMain } from './serve.js';

export const licenceTask = (t: LicencePdfTask, call: CallMain) => licencePdf(t, (toBeSigned) => call('sign', toBeSigned) as Promise<Uint8Array>);
