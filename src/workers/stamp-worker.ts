/**
 * The PDF work of stamps (stampDocument) in a worker thread. The HSM signature is made here, on a
 * signing lane, when the task brings a ticket for one (hsm/lane-signer.ts); otherwise it is asked of the
 * main thread, as the time-stamp and the revocation data always are (it holds the database).
 */
import { signOnLane, type LaneTicket } from '../hsm/lane-signer.js';
import type { DigestSigner, KeyAlgorithm } from '../hsm/types.js';
import { AppearanceCache, stampDocument, type SealFace, type StampedDocument, type StampRequest } from '../stamping/stamp-document.js';
import { keptInDatabase, writePlaced, type DirectoryId, type FilePlacement } from '../stamping/outputs.js';
import type { DocumentLimits } from '../stamping/document-limits.js';
import type { CallMain } from './serve.js';

export interface StampTask {
  input: Uint8Array;
  request: StampRequest;
  face: SealFace;
  key: { algorithm: KeyAlgorithm; spki: Uint8Array };
  certificate: Uint8Array;
  chain: Uint8Array[];
  maxTokenSize: number;
  limits: DocumentLimits;
  minSealMm: number;
  /** Where to put the signed PDF, if too large for the database, before handing it back (written, its data synced, renamed into place; see writePlaced). */
  placeAt?: FilePlacement;
  /** Signs on a lane of this thread's own when given (hsm/lane-signer.ts); through the main thread otherwise. */
  lane?: LaneTicket;
}

/** A stamped document, the directory the worker put it in (when it went to `placeAt`), and how long its lane signatures took (s). */
export interface PlacedDocument extends StampedDocument {
  placedIn?: DirectoryId;
  laneSignSeconds?: number[];
}

const appearances = new AppearanceCache();

/** Builds the active seals' appearances before the first stamp asks for one (Stamper.prestart). */
export const prestartTask = async (t: { faces: SealFace[] }) => {
  await Promise.all(t.faces.map((face) => appearances.get(face)));
};

/** The stamp's signature on a lane when it can be, through the main thread when not. */
function signer(t: StampTask, call: CallMain, laneSignSeconds: number[]): DigestSigner {
  return {
    ...t.key,
    signDigest(hash, digest) {
      const signed = t.lane && signOnLane(t.lane, hash, digest);
      if (!signed) return call('sign', hash, digest) as Promise<Uint8Array>;
      laneSignSeconds.push(signed.seconds);
      return Promise.resolve(signed.signature);
    },
  };
}

export const stampTask = async (t: StampTask, call: CallMain): Promise<PlacedDocument> => {
  const laneSignSeconds: number[] = [];
  const stamped = await stampDocument(t.input, t.request, {
    signer: signer(t, call, laneSignSeconds),
    certificate: t.certificate,
    chain: t.chain,
    appearance: () => appearances.get(t.face),
    timestamper: { maxTokenSize: t.maxTokenSize, stamp: (digest) => call('timestamp', digest) as Promise<Uint8Array> },
    revocation: { forCerts: (certs, options) => call('revocation', certs, options) as Promise<{ crls: Uint8Array[]; ocsps: Uint8Array[] }> },
    limits: t.limits,
    minSealMm: t.minSealMm,
  });
  const placeAt = t.placeAt && !keptInDatabase(stamped.pdf.byteLength, t.placeAt.databaseMaxBytes) ? t.placeAt : undefined;
  return { ...stamped, laneSignSeconds, ...(placeAt ? { placedIn: writePlaced(placeAt.file, stamped.pdf) } : {}) };
};
