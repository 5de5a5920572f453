import { currentCrl } from '../pki/services.js';
import { pkiFileCommand } from './pki-file.js';

export const pkiCrl = pkiFileCommand(
  'crl',
  'write the root CA’s current CRL (DER), as GET /pki/crl/root.crl serves it, e.g. for offline relying parties',
  async (services) => {
    const crl = await currentCrl(services);
    const [thisUpdate, nextUpdate] = [crl.thisUpdate.toISOString(), crl.nextUpdate.toISOString()];
    return {
      bytes: crl.der,
      facts: { crlNumber: crl.crlNumber, thisUpdate, nextUpdate, bytes: crl.der.length },
      text: (out) => `wrote CRL number ${crl.crlNumber} to ${out} (valid until ${nextUpdate})`,
    };
  },
);
