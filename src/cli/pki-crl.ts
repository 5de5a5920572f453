import { currentCrl } from '../pki/services.js';
import { pkiFileRunner } from './pki-file.js';

export const pkiCrl = pkiFileRunner(async (services) => {
  const crl = await currentCrl(services);
  const [thisUpdate, nextUpdate] = [crl.thisUpdate.toISOString(), crl.nextUpdate.toISOString()];
  return {
    bytes: crl.der,
    facts: { crlNumber: crl.crlNumber, thisUpdate, nextUpdate, bytes: crl.der.length },
    text: (out) => `wrote CRL number ${crl.crlNumber} to ${out} (valid until ${nextUpdate})`,
  };
});
