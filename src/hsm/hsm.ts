import { randomBytes } from 'node:crypto';
import pkcs11 from 'pkcs11js';
import { withDeadline } from '../deadline.js';
import { CKR, ckrOf, HsmError, hsmTimeout, mapHsmError, recoveryFor } from './errors.js';
import {
  algorithmOfEcParams,
  generationTemplates,
  importTemplates,
  secretKeyTemplate,
  signingCall,
  signingContext,
  spkiFromAttributes,
} from './key-templates.js';
import type { LaneTicket } from './lane-signer.js';
import { SigningLanes } from './lanes.js';
import { SessionPool } from './session-pool.js';
import type { DigestSigner, HashAlgorithm, KeyAlgorithm } from './types.js';

export interface HsmOptions {
  modulePath: string;
  tokenLabel: string;
  /** Kept only in memory, passed to C_Login; never logged. */
  pin: string;
  /** Concurrent sessions; SoftHSM2 signs RSA-2048 about twice as fast with 4 as with 1. */
  poolSize?: number;
  /**
   * How long a signature may take, waiting for a session included, before the caller gets
   * hsm-timeout (the HSM call itself cannot be cancelled; its session returns to the pool when it ends).
   */
  timeoutMs?: number;
  /** Told how long each signature took (session wait included), for the latency metric. */
  onSign?: (seconds: number, ok: boolean) => void;
}

/** A PKCS#11 call running on libuv's thread pool rather than the main thread. */
interface OffThreadCall {
  started: number;
  /** Settles (never rejects) once the module returned, whatever it returned. */
  ended: Promise<void>;
}

export interface KeySpec {
  label: string;
  /** CKA_ID as hex; random when omitted. */
  id?: string;
  algorithm: KeyAlgorithm;
}

/** A lane leased for one task: its ticket travels with the task, `end` once the task is over. */
export interface LaneLease {
  ticket: LaneTicket;
  end(): void;
}

export interface HsmStats {
  pool: { size: number; inUse: number; waiting: number };
  /** `signed`: signatures made on lanes since the Hsm opened. */
  lanes: { size: number; taken: number; free: number; signed: number };
}

/** How often leased lanes are checked for calls past the time-out, at most. */
const LANE_WATCH_MS = 250;

interface KeyHandles {
  priv: Buffer;
  algorithm: KeyAlgorithm;
  spki: Buffer;
  label: string;
}

/** A private key on the token, usable as a DigestSigner. The key material stays in the HSM. */
export class HsmKey implements DigestSigner {
  constructor(
    private readonly hsm: Hsm,
    readonly id: string,
    readonly label: string,
    readonly algorithm: KeyAlgorithm,
    readonly spki: Uint8Array,
  ) {}
  signDigest(hash: HashAlgorithm, digest: Uint8Array): Promise<Uint8Array> {
    return this.hsm.signDigest(this.id, hash, digest);
  }
  /** See Hsm.leaseLane. */
  leaseLane(onOverdue: (e: HsmError) => void): LaneLease | undefined {
    return this.hsm.leaseLane(this.id, onOverdue);
  }
  /** See Hsm.reportSign. */
  reportSign(seconds: number, ok: boolean): void {
    this.hsm.reportSign(seconds, ok);
  }
}

const SESSION_FLAGS = pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION;
/** CK_STATE values of a session whose user is logged in (pkcs11js does not export them). */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/** A session, login or token failure is retried this many times in all, with recovery in between. */
const MAX_ATTEMPTS = 3;

/** CK_ULONG attributes come back in the platform's width (8 bytes on 64-bit Linux). */
const readUlong = (b: Buffer): number => (b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUInt32LE(0));

/**
 * PKCS#11 modules are process-wide: C_Finalize ends every user of the module, so it is only called
 * when the last Hsm on that module closes.
 */
const openCount = new Map<string, number>();

export class Hsm {
  private readonly pool: SessionPool;
  private readonly lanes: SigningLanes;
  /** Lanes leased to PDF workers' tasks, by tag, and the watch over their calls while there are any. */
  private readonly leases = new Map<number, { keyId: string; onOverdue: (e: HsmError) => void }>();
  private lastLease = 0;
  private laneWatch?: NodeJS.Timeout;
  private slot!: Buffer;
  private readonly keys = new Map<string, KeyHandles>();
  private reconnecting?: Promise<void>;
  private closed = false;
  private pinAccepted = false;
  /**
   * Calls still inside the module, by session. Until one returns, its session is not reused and the
   * module is not finalised: PKCS#11 leaves both undefined, and SoftHSM (which runs in this process)
   * crashes on them.
   */
  private readonly offThread = new Map<Buffer, OffThreadCall>();

  private constructor(
    private readonly lib: pkcs11.PKCS11,
    private readonly options: Required<Omit<HsmOptions, 'onSign'>> & Pick<HsmOptions, 'onSign'>,
  ) {
    // Signing lanes for the PDF workers (./lanes.ts), as many as the pool's sessions.
    this.lanes = SigningLanes.create(options.poolSize);
    this.pool = new SessionPool(
      () => this.openSession(),
      (s) => this.lib.C_CloseSession(s),
      options.poolSize,
    );
  }

  /** Loads the module, finds the token by label and logs in. Errors name the part that failed. */
  static async open(options: HsmOptions): Promise<Hsm> {
    const lib = new pkcs11.PKCS11();
    try {
      lib.load(options.modulePath);
    } catch (e) {
      throw new HsmError(
        'hsm-module-unavailable',
        `Cannot load the PKCS#11 module ${options.modulePath}: ${(e as Error).message}. Install it (Debian: apt-get install softhsm2) or set ONESEAL_PKCS11_MODULE.`,
        { cause: e },
      );
    }
    const hsm = new Hsm(lib, { poolSize: 4, timeoutMs: 10_000, ...options });
    openCount.set(options.modulePath, (openCount.get(options.modulePath) ?? 0) + 1);
    try {
      await hsm.connect();
    } catch (e) {
      try {
        if (hsm.release()) lib.C_Finalize();
      } catch {
        // the module is unusable anyway
      }
      throw e;
    }
    hsm.lanes.openGate();
    return hsm;
  }

  /** C_Initialize with OS locking (without it concurrent sessions crash SoftHSM), slot lookup, login. */
  private async connect(): Promise<void> {
    try {
      this.lib.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (ckrOf(e) !== 0x191 /* CKR_CRYPTOKI_ALREADY_INITIALIZED */) throw mapHsmError(e, 'initialising the PKCS#11 module');
    }
    this.slot = this.findSlot();
    const first = await this.pool.acquire();
    try {
      this.login(first);
    } finally {
      this.pool.release(first);
    }
  }

  private findSlot(): Buffer {
    const { tokenLabel } = this.options;
    let slots: Buffer[];
    try {
      slots = this.lib.C_GetSlotList(true);
    } catch (e) {
      throw mapHsmError(e, 'listing the HSM slots');
    }
    for (const slot of slots) {
      const info = this.lib.C_GetTokenInfo(slot);
      if (info.label.trim() === tokenLabel) return slot;
    }
    throw new HsmError(
      'hsm-token-not-found',
      `No HSM token labelled "${tokenLabel}" (found ${slots.length} token(s)). Create it (npm run setup for the dev token) or set ONESEAL_TOKEN_LABEL.`,
      { retryAfter: 5 }, // while running, a token that went away may come back
    );
  }

  /** Re-login during recovery: a failure here resurfaces as the retried operation's own error. */
  private loginQuietly(session: Buffer): void {
    try {
      this.login(session);
    } catch {
      // the retry reports what is really wrong
    }
  }

  /**
   * Sessions opened after the application was logged out (every session closed, as in a failover)
   * start logged out too, and the token then hides the private keys. Once the PIN has been accepted,
   * each new session logs in again if needed; before that, only connect() tries the PIN, so a wrong
   * one is tried once and never counts twice towards the token's lock-out.
   */
  private openSession(): Buffer {
    const session = this.lib.C_OpenSession(this.slot, SESSION_FLAGS);
    if (this.pinAccepted && !this.loggedIn(session)) this.loginQuietly(session);
    return session;
  }

  private sessionAnswers(session: Buffer): boolean {
    try {
      this.lib.C_GetSessionInfo(session);
      return true;
    } catch {
      return false;
    }
  }

  private loggedIn(session: Buffer): boolean {
    const { state } = this.lib.C_GetSessionInfo(session);
    return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
  }

  private login(session: Buffer): void {
    try {
      this.lib.C_Login(session, pkcs11.CKU_USER, this.options.pin);
      this.pinAccepted = true;
    } catch (e) {
      if (ckrOf(e) === CKR.USER_ALREADY_LOGGED_IN) {
        this.pinAccepted = true;
        return;
      }
      throw mapHsmError(e, `logging in to token "${this.options.tokenLabel}"`);
    }
  }

  /** After the token vanished (removed, re-inserted, library reset): start over, once for all callers. */
  private reconnect(): Promise<void> {
    this.reconnecting ??= (async () => {
      try {
        await this.onceNothingOffThread(() => {
          this.pool.drainIdle();
          this.lanes.forgetSessions();
          this.forgetKeys();
          this.pinAccepted = false; // a token put back may have another PIN: connect() tries it once
          try {
            this.lib.C_Finalize();
          } catch {
            // already finalised: connect() starts afresh either way
          }
        });
        await this.connect();
        if (!this.closed) this.lanes.openGate();
      } finally {
        this.reconnecting = undefined;
      }
    })();
    return this.reconnecting;
  }

  /**
   * Runs `fn` with a pooled session. A session, login or token that died underneath is replaced and
   * the operation tried once more, so an HSM hiccup costs a retry, not a failed stamp.
   */
  private async withSession<T>(context: string, fn: (session: Buffer) => T | Promise<T>): Promise<T> {
    if (this.closed) throw new HsmError('hsm-closed', 'The HSM connection has been closed.');
    let session: Buffer | undefined;
    try {
      if (this.reconnecting) await this.reconnecting;
      session = await this.pool.acquire(this.options.timeoutMs).catch(async (e: unknown) => {
        if (e instanceof HsmError) throw e; // hsm-busy: every session is taken, the token is fine
        await this.reconnect();
        return this.pool.acquire(this.options.timeoutMs);
      });
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn(session);
        } catch (e) {
          const recovery = recoveryFor(e);
          if (recovery === 'none' || attempt >= MAX_ATTEMPTS) throw e;
          // Object handles go stale with a token reset, and SoftHSM renumbers private ones once every
          // session closed (a logout): whatever was lost, look the keys up again.
          this.forgetKeys();
          if (recovery === 'key') {
            this.loginQuietly(session);
            continue;
          }
          const dead = session;
          session = undefined;
          this.pool.discard(dead);
          // the other idle sessions most likely died with it; retrying on them would use up the attempts
          if (recovery === 'session') this.pool.drainIdle((s) => !this.sessionAnswers(s));
          if (recovery === 'token') await this.reconnect();
          session = await this.pool.acquire(this.options.timeoutMs);
        }
      }
    } catch (e) {
      throw mapHsmError(e, context);
    } finally {
      if (session) this.releaseWhenIdle(session);
    }
  }

  private releaseWhenIdle(session: Buffer): void {
    const call = this.offThread.get(session);
    if (call) void call.ended.then(() => this.pool.release(session));
    else this.pool.release(session);
  }

  /**
   * Runs a module call that blocks in the HSM off the main thread, giving up waiting after the
   * time-out. The session stays taken until the module returns, whenever that is.
   */
  private untilTimeout<T>(session: Buffer, context: string, call: Promise<T>): Promise<T> {
    const ended = call.then(() => undefined, () => undefined).finally(() => this.offThread.delete(session));
    this.offThread.set(session, { started: performance.now(), ended });
    const { timeoutMs } = this.options;
    return withDeadline(call, timeoutMs, () => hsmTimeout(timeoutMs, context));
  }

  /**
   * Runs `action` at a moment no call is inside the module (checked and run in one synchronous step).
   * The signing lanes' gate is left shut: whoever ends sessions reopens it once there are some again.
   */
  private async onceNothingOffThread(action: () => void): Promise<void> {
    await this.lanes.closeGate();
    while (this.offThread.size > 0) await Promise.all([...this.offThread.values()].map((c) => c.ended));
    action();
  }

  private findObjects(session: Buffer, template: pkcs11.Template, max = 16): Buffer[] {
    this.lib.C_FindObjectsInit(session, template);
    try {
      return this.lib.C_FindObjects(session, max);
    } finally {
      this.lib.C_FindObjectsFinal(session);
    }
  }

  private async handles(id: string): Promise<KeyHandles> {
    const cached = this.keys.get(id);
    if (cached) return cached;
    const found = await this.withSession(`looking up key ${id}`, (s) => this.readKey(s, id));
    if (!found) {
      throw new HsmError('hsm-key-not-found', `The HSM token "${this.options.tokenLabel}" holds no private key with id ${id}.`);
    }
    this.keys.set(id, found);
    return found;
  }

  /**
   * "No such key" is only believable from a logged-in session on a token that is still there: a lost
   * login or a vanished token hides private keys without any error. Asks the token (its error, e.g.
   * SoftHSM's CKR_GENERAL_ERROR, leads to a reconnect) and logs in for real when the login was lost.
   * Returns true when it logged in, so the caller looks again.
   */
  private recheckToken(session: Buffer): boolean {
    this.lib.C_GetTokenInfo(this.slot);
    if (this.loggedIn(session)) return false;
    try {
      this.lib.C_Login(session, pkcs11.CKU_USER, this.options.pin);
    } catch (e) {
      if (ckrOf(e) !== CKR.USER_ALREADY_LOGGED_IN) throw e;
    }
    return true;
  }

  private readKey(session: Buffer, id: string): KeyHandles | undefined {
    const idBuf = Buffer.from(id, 'hex');
    const template = [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
      { type: pkcs11.CKA_ID, value: idBuf },
    ];
    let [priv] = this.findObjects(session, template, 1);
    if (!priv && this.recheckToken(session)) [priv] = this.findObjects(session, template, 1);
    if (!priv) return undefined;
    const [pub] = this.findObjects(session, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
      { type: pkcs11.CKA_ID, value: idBuf },
    ], 1);
    if (!pub) throw new HsmError('hsm-key-incomplete', `Key ${id} has no public half on the token; re-import it.`);
    const [keyType, label] = this.lib.C_GetAttributeValue(session, priv, [
      { type: pkcs11.CKA_KEY_TYPE },
      { type: pkcs11.CKA_LABEL },
    ]);
    const labelText = (label!.value as Buffer).toString('utf8');
    if (readUlong(keyType!.value as Buffer) === pkcs11.CKK_RSA) {
      const [mod, exp] = this.lib.C_GetAttributeValue(session, pub, [
        { type: pkcs11.CKA_MODULUS },
        { type: pkcs11.CKA_PUBLIC_EXPONENT },
      ]);
      const modulus = mod!.value as Buffer;
      const algorithm: KeyAlgorithm = modulus.length * 8 === 2048 ? 'RSA-2048' : 'RSA-3072';
      const spki = spkiFromAttributes(algorithm, { modulus, exponent: exp!.value as Buffer });
      return { priv, algorithm, spki, label: labelText };
    }
    const [params, point] = this.lib.C_GetAttributeValue(session, pub, [
      { type: pkcs11.CKA_EC_PARAMS },
      { type: pkcs11.CKA_EC_POINT },
    ]);
    const algorithm = algorithmOfEcParams(params!.value as Buffer);
    const spki = spkiFromAttributes(algorithm, { ecPoint: point!.value as Buffer });
    return { priv, algorithm, spki, label: labelText };
  }

  /** Handles for use inside withSession: a recovery may have dropped the cache, so look again. */
  private handlesIn(session: Buffer, id: string): KeyHandles {
    let h = this.keys.get(id);
    if (!h) {
      h = this.readKey(session, id);
      if (!h) throw new HsmError('hsm-key-not-found', `The HSM token "${this.options.tokenLabel}" holds no private key with id ${id}.`);
      this.keys.set(id, h);
    }
    return h;
  }

  private keyOf(id: string, h: KeyHandles): HsmKey {
    return new HsmKey(this, id, h.label, h.algorithm, h.spki);
  }

  /** Drops the cached object handles, and with them every lane ticket that carries one. */
  private forgetKeys(): void {
    this.keys.clear();
    this.lanes.invalidateTickets();
  }

  /**
   * Lets a PDF worker sign with this key on a lane of its own (./lane-signer.ts) until `end`: the
   * ticket goes with its task. Undefined when it should ask this thread instead: no lanes, the gate
   * shut (a reconnect under way), or the key not looked up yet (the first signature here caches it).
   * Lanes that lost their session get a new one first (and, if a call failed on one, the cached key
   * handles are dropped, so this signature goes through here). A call the HSM holds on a lane past the
   * time-out is reported to `onOverdue` with hsm-timeout, once: the caller cancels the task.
   */
  leaseLane(id: string, onOverdue: (e: HsmError) => void): LaneLease | undefined {
    if (this.closed || this.reconnecting || !this.lanes.gateOpen) return undefined;
    if (this.lanes.needsMending) {
      const { hadBroken } = this.lanes.mend(() => this.openSession(), (s) => this.lib.C_CloseSession(s));
      // What failed on a lane may have renumbered the key handles (a logout does): look them up again.
      if (hadBroken) this.forgetKeys();
    }
    const h = this.keys.get(id);
    if (!h) return undefined;
    const tag = (this.lastLease = (this.lastLease + 1) | 0);
    this.leases.set(tag, { keyId: id, onOverdue });
    this.watchLanes();
    return {
      ticket: {
        lanes: this.lanes.buffer,
        modulePath: this.options.modulePath,
        generation: this.lanes.generation,
        tag,
        algorithm: h.algorithm,
        keyHandle: h.priv,
      },
      end: () => {
        this.leases.delete(tag);
        if (this.leases.size === 0) this.stopWatchingLanes();
      },
    };
  }

  /** Lanes a PDF worker held when it ended (the pool tells): see SigningLanes.reclaimFrom. */
  reclaimLanes(threadId: number): void {
    this.lanes.reclaimFrom(threadId);
  }

  private watchLanes(): void {
    if (this.laneWatch) return;
    const { timeoutMs } = this.options;
    this.laneWatch = setInterval(() => {
      for (const tag of this.lanes.overdue(timeoutMs)) {
        const lease = this.leases.get(tag);
        if (!lease) continue;
        this.leases.delete(tag);
        this.reportSign(timeoutMs / 1000, false);
        lease.onOverdue(hsmTimeout(timeoutMs, signingContext(lease.keyId)));
      }
    }, Math.min(LANE_WATCH_MS, timeoutMs / 4));
    this.laneWatch.unref();
  }

  private stopWatchingLanes(): void {
    clearInterval(this.laneWatch);
    this.laneWatch = undefined;
  }

  /** Generates a key pair on the token; the private key is sensitive and non-extractable. */
  async generateKeyPair(spec: KeySpec): Promise<HsmKey> {
    const id = spec.id ?? randomBytes(16).toString('hex');
    const t = generationTemplates(spec.algorithm, spec.label, Buffer.from(id, 'hex'));
    const handles = await this.withSession(`generating a ${spec.algorithm} key "${spec.label}"`, async (s) => {
      await this.lib.C_GenerateKeyPairAsync(s, t.mechanism, t.publicKey, t.privateKey);
      return this.readKey(s, id)!;
    });
    this.keys.set(id, handles);
    return this.keyOf(id, handles);
  }

  /** Imports a PKCS#8 private key as a sensitive, non-extractable token object (and its public half). */
  async importPrivateKey(spec: { label: string; id?: string; pkcs8: Uint8Array }): Promise<HsmKey> {
    const id = spec.id ?? randomBytes(16).toString('hex');
    const t = importTemplates(spec.pkcs8, spec.label, Buffer.from(id, 'hex'));
    const handles = await this.withSession(`importing key "${spec.label}"`, (s) => {
      this.lib.C_CreateObject(s, t.publicKey);
      this.lib.C_CreateObject(s, t.privateKey);
      return this.readKey(s, id)!;
    });
    this.keys.set(id, handles);
    return this.keyOf(id, handles);
  }

  /** Generates a 256-bit HMAC secret on the token (sensitive, non-extractable); returns its CKA_ID. */
  async generateSecretKey(spec: { label: string; id?: string }): Promise<string> {
    const id = spec.id ?? randomBytes(16).toString('hex');
    await this.withSession(`generating the secret key "${spec.label}"`, (s) => {
      this.lib.C_GenerateKey(s, { mechanism: pkcs11.CKM_GENERIC_SECRET_KEY_GEN }, secretKeyTemplate(spec.label, Buffer.from(id, 'hex')));
    });
    return id;
  }

  /** The CKA_IDs of the secret keys with this label (normally one). */
  async findSecretKeysByLabel(label: string): Promise<string[]> {
    return this.withSession(`looking up secret keys labelled "${label}"`, (s) => {
      const template = [
        { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
        { type: pkcs11.CKA_LABEL, value: label },
      ];
      let found = this.findObjects(s, template);
      // Like private keys, secret keys hide from a session whose login was lost.
      if (found.length === 0 && this.recheckToken(s)) found = this.findObjects(s, template);
      return found.map((h) => (this.lib.C_GetAttributeValue(s, h, [{ type: pkcs11.CKA_ID }])[0]!.value as Buffer).toString('hex'));
    });
  }

  private secretKeyIn(session: Buffer, id: string): Buffer {
    const template = [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
      { type: pkcs11.CKA_ID, value: Buffer.from(id, 'hex') },
    ];
    let [key] = this.findObjects(session, template, 1);
    if (!key && this.recheckToken(session)) [key] = this.findObjects(session, template, 1);
    if (!key) throw new HsmError('hsm-key-not-found', `The HSM token "${this.options.tokenLabel}" holds no secret key with id ${id}.`);
    return key;
  }

  /** HMAC-SHA-256 of `data` with a secret key on the token (CKM_SHA256_HMAC). */
  async hmacSha256(id: string, data: Uint8Array): Promise<Buffer> {
    return this.withSession(`computing an HMAC with secret key ${id}`, (s) => {
      const key = this.secretKeyIn(s, id);
      this.lib.C_SignInit(s, { mechanism: pkcs11.CKM_SHA256_HMAC }, key);
      return Buffer.from(this.lib.C_Sign(s, Buffer.from(data), Buffer.alloc(32)));
    });
  }

  /** Whether a secret key's value is protected (sensitive, not extractable, not readable): for tests. */
  async secretKeyProtection(id: string): Promise<{ sensitive: boolean; extractable: boolean; valueReadable: boolean }> {
    return this.withSession(`reading attributes of secret key ${id}`, (s) => {
      const key = this.secretKeyIn(s, id);
      const [sens, extr] = this.lib.C_GetAttributeValue(s, key, [{ type: pkcs11.CKA_SENSITIVE }, { type: pkcs11.CKA_EXTRACTABLE }]);
      let valueReadable = true;
      try {
        this.lib.C_GetAttributeValue(s, key, [{ type: pkcs11.CKA_VALUE }]);
      } catch {
        valueReadable = false;
      }
      return { sensitive: (sens!.value as Buffer)[0] === 1, extractable: (extr!.value as Buffer)[0] === 1, valueReadable };
    });
  }

  async findKey(id: string): Promise<HsmKey | undefined> {
    try {
      return this.keyOf(id, await this.handles(id));
    } catch (e) {
      if (e instanceof HsmError && e.code === 'hsm-key-not-found') return undefined;
      throw e;
    }
  }

  /** Finds keys by label (several keys may share one). */
  async findKeysByLabel(label: string): Promise<HsmKey[]> {
    const ids = await this.withSession(`looking up keys labelled "${label}"`, (s) =>
      this.findObjects(s, [
        { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
        { type: pkcs11.CKA_LABEL, value: label },
      ], 64).map((h) => (this.lib.C_GetAttributeValue(s, h, [{ type: pkcs11.CKA_ID }])[0]!.value as Buffer).toString('hex')),
    );
    const keys: HsmKey[] = [];
    for (const id of ids) {
      const k = await this.findKey(id);
      if (k) keys.push(k);
    }
    return keys;
  }

  /** Deletes both halves of a key pair. Certificates elsewhere stay, so old signatures still verify. */
  async destroyKey(id: string): Promise<void> {
    await this.withSession(`destroying key ${id}`, (s) => {
      for (const cls of [pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY]) {
        for (const h of this.findObjects(s, [
          { type: pkcs11.CKA_CLASS, value: cls },
          { type: pkcs11.CKA_ID, value: Buffer.from(id, 'hex') },
        ])) {
          this.lib.C_DestroyObject(s, h);
        }
      }
    });
    this.keys.delete(id);
    this.lanes.invalidateTickets(); // a destroyed key's handle may come to name a new object
  }

  /** Signs a precomputed digest: RSA PKCS#1 v1.5 over our DigestInfo, or ECDSA returned as DER. */
  async signDigest(id: string, hash: HashAlgorithm, digest: Uint8Array): Promise<Uint8Array> {
    const { algorithm } = await this.handles(id);
    const call = signingCall(algorithm, hash, digest);
    const start = performance.now();
    let ok = false;
    try {
      const context = signingContext(id);
      const raw = await this.withSession(context, (s) => {
        this.lib.C_SignInit(s, call.mechanism, this.handlesIn(s, id).priv);
        return this.untilTimeout(s, context, this.lib.C_SignAsync(s, call.input, call.output));
      });
      ok = true;
      return call.finish(raw);
    } finally {
      this.reportSign((performance.now() - start) / 1000, ok);
    }
  }

  /** For the latency metric: a signature made elsewhere (on a signing lane) counts like one made here. */
  reportSign(seconds: number, ok: boolean): void {
    this.options.onSign?.(seconds, ok);
  }

  /** Reads attributes of a private key, for checks that it is protected (tests, health). */
  async keyAttributes(id: string): Promise<{ sensitive: boolean; extractable: boolean; valueReadable: boolean }> {
    await this.handles(id);
    return this.withSession(`reading attributes of key ${id}`, (s) => {
      const key = this.handlesIn(s, id);
      const [sens, extr] = this.lib.C_GetAttributeValue(s, key.priv, [
        { type: pkcs11.CKA_SENSITIVE },
        { type: pkcs11.CKA_EXTRACTABLE },
      ]);
      let valueReadable = true;
      try {
        this.lib.C_GetAttributeValue(s, key.priv, [{ type: pkcs11.CKA_PRIVATE_EXPONENT }, { type: pkcs11.CKA_VALUE }]);
      } catch {
        valueReadable = false;
      }
      return { sensitive: (sens!.value as Buffer)[0] === 1, extractable: (extr!.value as Buffer)[0] === 1, valueReadable };
    });
  }

  /** A real round trip to the token, for /healthz; a signature stuck past the time-out also counts as down. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    const stuck = this.longestOffThreadMs();
    if (stuck > this.options.timeoutMs) {
      return {
        ok: false,
        detail: `token "${this.options.tokenLabel}" has not answered a signature for ${Math.round(stuck / 1000)} s (limit ${this.options.timeoutMs / 1000} s)`,
      };
    }
    try {
      await this.withSession('checking the HSM', (s) => {
        // A session outlives its token on some modules (SoftHSM): ask for the token and the login too.
        this.recheckToken(s);
        this.lib.C_GenerateRandom(s, Buffer.alloc(8));
      });
      return { ok: true, detail: `token "${this.options.tokenLabel}"` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }

  get stats(): HsmStats {
    return { pool: this.pool.stats, lanes: this.lanes.stats };
  }

  private longestOffThreadMs(): number {
    const now = performance.now();
    let longest = this.lanes.longestCallMs();
    for (const call of this.offThread.values()) longest = Math.max(longest, now - call.started);
    return longest;
  }

  /**
   * Test seam: closes every session underneath the pool (logging the application out), as an HSM
   * failover does. Sessions in use stay in their callers' hands and fail on their next call. It waits
   * for calls inside the module to return first: SoftHSM runs in this process, and closing a session
   * another thread is signing with frees memory under that thread, a crash no networked HSM has.
   */
  async closeAllSessionsUnderneath(): Promise<void> {
    await this.onceNothingOffThread(() => {
      this.lib.C_CloseAllSessions(this.slot);
      this.lanes.forgetSessions();
      this.forgetKeys(); // the logout that follows renumbers private objects
    });
    if (!this.closed && !this.reconnecting) this.lanes.openGate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatchingLanes();
    const finalised = this.onceNothingOffThread(() => {
      this.pool.drainIdle();
      this.lanes.closeSessions((s) => this.lib.C_CloseSession(s));
      if (!this.release()) return;
      try {
        this.lib.C_Finalize();
      } catch {
        // closing anyway
      }
    });
    // A hung HSM must not hang shutdown: after the time-out, finalising is left to the late calls' end.
    let timer: NodeJS.Timeout | undefined;
    const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.timeoutMs).unref()));
    await Promise.race([finalised, givenUp]).finally(() => clearTimeout(timer));
    // The library stays loaded: unloading a PKCS#11 module (and the crypto library it pulls in) while
    // its exit handlers or a late callback still point into it crashed processes as they exited.
  }

  /** Returns true when this was the last open Hsm on its module. */
  private release(): boolean {
    const left = (openCount.get(this.options.modulePath) ?? 1) - 1;
    if (left > 0) openCount.set(this.options.modulePath, left);
    else openCount.delete(this.options.modulePath);
    return left <= 0;
  }
}
