/**
 * The stamp flow shared by the CLI, the API and the licence issuer: the seal's active version →
 * its appearance (built once per version, then reused) → placement → PAdES signature through the
 * HSM at the requested level. Recording the stamp is the caller's job (in its own transaction).
 */
import { OneSealError } from '../errors.js';
import { onSealChanged } from '../seals/events.js';
import { signingMaterial, type SealDeps, type SigningMaterial } from '../seals/service.js';
import { activeSealVersions } from '../store/seals.js';
import type { PadesLevel, RevocationOptions, RevocationSource, Timestamper } from '../signing/sign-pdf.js';
import type { WorkerPool } from '../workers/pool.js';
import type { PlacedDocument, StampTask } from '../workers/stamp-worker.js';
import { DEFAULT_MIN_SEAL_MM } from '../stamp/placement.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './document-limits.js';
import { removeOutputFile, type FilePlacement } from './outputs.js';
import { AppearanceCache, DEFAULT_LEVEL, stampDocument, type SealFace, type StampRequest } from './stamp-document.js';

export { DEFAULT_LEVEL, type StampPlacement, type StampRequest } from './stamp-document.js';

/** `placedIn`: set when a worker did the work and put the output in `placeAt`'s file. */
export interface StampResult extends PlacedDocument {
  seal: { id: string; version: number; certSerial: string; versionId: number };
}

export interface StamperDeps extends SealDeps {
  timestamper: Timestamper;
  revocation: RevocationSource;
  /** Told the outcome of every stamp ("ok" or the error's kind), for the stamp counter. */
  onStamp?: (event: { sealId: string; level: PadesLevel; outcome: string }) => void;
  /** Pages and objects a document may have; the defaults when omitted. */
  limits?: DocumentLimits;
  /** Where the PDF work runs; in this thread when omitted (CLI, tests of the core). */
  pool?: WorkerPool;
  /** The smallest seal, in mm, that may be fitted into a signature field (default DEFAULT_MIN_SEAL_MM). */
  minSealMm?: number;
}

/**
 * How long a seal's active version is reused without asking the database. Changes made in this
 * process are seen at once (onSealChanged); another instance's rotation within this time.
 */
export const SIGNING_MATERIAL_TTL_MS = 2000;

/** Seals whose appearances the workers build when they start; beyond these, on first use. */
const PRESTART_SEALS = 32;

const faceOf = (material: SigningMaterial): SealFace => ({
  versionId: material.version.id,
  organisation: material.seal.organisation,
  name: material.seal.name,
  creditCode: material.seal.creditCode,
  appearance: material.seal.appearance,
});

export class Stamper {
  /** Appearance templates per seal version: building one subsets a font (tens of ms), emitting it costs microseconds. */
  private readonly appearances = new AppearanceCache();
  private readonly materials = new Map<string, { material: Promise<SigningMaterial>; expires: number }>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: StamperDeps) {
    this.unsubscribe = onSealChanged((sealId) => this.materials.delete(sealId));
  }

  /**
   * `signal`: the caller gave up (request time-out); the work stops at its next step. `placeAt`: a
   * worker doing the PDF work also puts a result too large for the database in that file (written,
   * synced, renamed into place; StampResult.placedIn), which the caller then records or removes; the
   * event loop has then no file calls to make for it. A worker stopped by `signal` may have put it
   * there before it stopped: the file is removed once its thread has ended.
   */
  async stamp(input: Uint8Array, request: StampRequest, signal?: AbortSignal, placeAt?: FilePlacement): Promise<StampResult> {
    let material: SigningMaterial;
    try {
      material = await this.materialOf(request.sealId);
    } catch (e) {
      // The id came from the caller: an unknown one must not become a metric label of its own.
      this.report('unknown', request, e);
      throw e;
    }
    return this.stampWith(material, input, request, signal, placeAt);
  }

  private report(sealId: string, request: StampRequest, e?: unknown): void {
    const outcome = e === undefined ? 'ok' : e instanceof OneSealError ? e.kind : 'internal';
    this.deps.onStamp?.({ sealId, level: request.level ?? DEFAULT_LEVEL, outcome });
  }

  /** The seal's active version, from a short-lived cache: two database reads per stamp were a tenth of its cost. */
  materialOf(sealId: string): Promise<SigningMaterial> {
    const now = Date.now();
    const cached = this.materials.get(sealId);
    if (cached && cached.expires > now) return cached.material;
    const material = signingMaterial(this.deps, sealId);
    this.materials.set(sealId, { material, expires: now + SIGNING_MATERIAL_TTL_MS });
    material.catch(() => this.materials.delete(sealId));
    return material;
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * Starts the worker threads ahead of the first request, each with the appearances of the active
   * seals (the first PRESTART_SEALS) built: a cold worker spends most of a second on its first stamp.
   */
  async prestart(): Promise<void> {
    const { pool, store } = this.deps;
    if (!pool) return;
    const versions = (await activeSealVersions(store.db)).slice(0, PRESTART_SEALS);
    // A seal whose key is missing fails its stamps with a clear error later; it is no reason not to start.
    const materials = await Promise.all(versions.map((v) => this.materialOf(v.sealId).catch(() => undefined)));
    const faces = materials.filter((m) => m !== undefined).map(faceOf);
    await pool.prestart('prestart', { faces });
  }

  /** The worker threads doing the PDF work, if any. */
  get pool(): WorkerPool | undefined {
    return this.deps.pool;
  }

  /** Stamps with a version already chosen (rotation mid-request must not switch keys under it). */
  async stampWith(material: SigningMaterial, input: Uint8Array, request: StampRequest, signal?: AbortSignal, placeAt?: FilePlacement): Promise<StampResult> {
    try {
      signal?.throwIfAborted();
      const result = await this.sign(material, input, request, signal, placeAt);
      this.report(material.seal.id, request);
      return result;
    } catch (e) {
      this.report(material.seal.id, request, e);
      throw e;
    }
  }

  private async sign(material: SigningMaterial, input: Uint8Array, request: StampRequest, signal?: AbortSignal, placeAt?: FilePlacement): Promise<StampResult> {
    const { timestamper, revocation, pool } = this.deps;
    const limits = this.deps.limits ?? DEFAULT_DOCUMENT_LIMITS;
    const minSealMm = this.deps.minSealMm ?? DEFAULT_MIN_SEAL_MM;
    const face = faceOf(material);
    let stamped: PlacedDocument;
    if (pool) {
      // The worker gets a copy of its own, moved rather than cloned (as the verifier does): one copy
      // here instead of a serialisation on this thread and another on the worker's.
      const own = new Uint8Array(input);
      // A signature the HSM holds on the worker's lane past its time-out ends the task, and its thread.
      const cancel = new AbortController();
      const lease = material.key.leaseLane((e) => cancel.abort(e));
      const forward = () => cancel.abort(signal!.reason);
      if (lease && signal?.aborted) forward();
      else if (lease) signal?.addEventListener('abort', forward, { once: true });
      const task: StampTask = {
        input: own, request, face, limits, minSealMm,
        key: { algorithm: material.key.algorithm, spki: material.key.spki },
        certificate: material.certificate,
        chain: material.chain,
        maxTokenSize: timestamper.maxTokenSize,
        placeAt,
        lane: lease?.ticket,
      };
      const { value } = await pool.run<PlacedDocument>('stamp', task, {
        signal: lease ? cancel.signal : signal,
        transfer: [own.buffer],
        // A file left after all (it could not be removed) is an orphan no record names: harmless.
        ...(placeAt ? { afterCancel: () => void removeOutputFile(placeAt.file).catch(() => undefined) } : {}),
        calls: {
          sign: (hash: Parameters<typeof material.key.signDigest>[0], digest: Uint8Array) => material.key.signDigest(hash, digest),
          timestamp: (digest: Uint8Array) => timestamper.stamp(digest),
          revocation: (certs: Uint8Array[], options?: RevocationOptions) => revocation.forCerts(certs, options),
        },
      }).finally(() => {
        lease?.end();
        signal?.removeEventListener('abort', forward);
      });
      const { laneSignSeconds, ...document } = value;
      for (const seconds of laneSignSeconds ?? []) material.key.reportSign(seconds, true);
      // Structured clone delivers a Uint8Array; callers expect the Buffer they always got.
      stamped = { ...document, pdf: Buffer.from(value.pdf.buffer, value.pdf.byteOffset, value.pdf.byteLength) };
    } else {
      stamped = await stampDocument(input, request, {
        signer: material.key, certificate: material.certificate, chain: material.chain,
        appearance: () => this.appearances.get(face), timestamper, revocation, limits, minSealMm,
      });
    }
    return {
      ...stamped,
      seal: {
        id: material.seal.id,
        version: material.version.version,
        versionId: material.version.id,
        certSerial: material.version.certSerial ?? '',
      },
    };
  }
}
