/**
 * Signing lanes: HSM sessions the PDF worker threads sign on themselves, so a stamp's signature no
 * longer crosses to the event loop and back (a message each way, C_SignInit on the event loop, the
 * module's answer on libuv's pool and then on the event loop again). The event loop still owns the
 * sessions: it opens them, replaces those that failed and, before anything that ends sessions
 * (C_Finalize, C_CloseAllSessions), shuts the gate and waits until no lane is inside the module,
 * which PKCS#11 leaves undefined and SoftHSM (running in this process) crashes on.
 *
 * The table lives in shared memory. A worker takes a lane by compare-and-swap and only then checks
 * the gate and the generation; the event loop shuts the gate and only then waits for taken lanes.
 * Each side writes before it reads the other's word, so one of them always sees the other: no lane is
 * inside the module once `closeGate` resolves. The generation moves on with every closing and every
 * forgotten key handle, so a handle read before a token reset (one that may since name another key)
 * is never used on a lane.
 */

/** A lane's state word: one of these, or TAKEN + the id of the thread inside the module on it. */
const FREE = 0;
/** A call on it failed: the event loop closes its session and opens another. */
const BROKEN = 2;
/** It has no session (never opened, or ended with the module): the event loop opens one. */
const CLOSED = 3;
const TAKEN = 4;
/** The event loop, while it gives a lane a new session. */
const EVENT_LOOP = 0;

const GATE = 0;
const GENERATION = 1;
const SIGNED = 2;
const COUNT = 3;
const HEADER = 4;
/** Per lane: its state, and the tag of the call inside the module on it. */
const WORDS_PER_LANE = 2;

/** A session handle is a CK_ULONG: 8 bytes on the 64-bit platforms OneSeal runs on. */
const HANDLE_BYTES = 8;

/** Where each part of the table starts: the words, the session handles, the calls' start times. */
const layout = (count: number) => {
  const handlesAt = 8 * Math.ceil(((HEADER + WORDS_PER_LANE * count) * 4) / 8);
  const startedAt = handlesAt + count * HANDLE_BYTES;
  return { handlesAt, startedAt, bytes: startedAt + count * 8 };
};

/** Node 20 has it; TypeScript's library declares it from ES2024 on. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: false } | { async: true; value: Promise<string> };
}).waitAsync;

export class SigningLanes {
  private readonly words: Int32Array;
  private readonly handles: Uint8Array;
  private readonly started: Float64Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    const count = new Int32Array(buffer, 0, HEADER)[COUNT]!;
    const { handlesAt, startedAt } = layout(count);
    this.words = new Int32Array(buffer, 0, HEADER + WORDS_PER_LANE * count);
    this.handles = new Uint8Array(buffer, handlesAt, count * HANDLE_BYTES);
    this.started = new Float64Array(buffer, startedAt, count);
  }

  /** The event loop's table of `count` lanes, all without a session, the gate shut. */
  static create(count: number): SigningLanes {
    const buffer = new SharedArrayBuffer(layout(count).bytes);
    new Int32Array(buffer, 0, HEADER)[COUNT] = count;
    const lanes = new SigningLanes(buffer);
    for (let lane = 0; lane < count; lane++) lanes.words[lanes.stateAt(lane)] = CLOSED;
    return lanes;
  }

  /** A worker's view of the table the event loop created. */
  static attach(buffer: SharedArrayBuffer): SigningLanes {
    return new SigningLanes(buffer);
  }

  get count(): number {
    return (this.words.length - HEADER) / WORDS_PER_LANE;
  }

  get generation(): number {
    return Atomics.load(this.words, GENERATION);
  }

  /** Lanes by state, and the signatures made on them so far. */
  get stats(): { size: number; taken: number; free: number; signed: number } {
    let taken = 0;
    let free = 0;
    for (let lane = 0; lane < this.count; lane++) {
      const state = this.state(lane);
      if (state >= TAKEN) taken++;
      else if (state === FREE) free++;
    }
    return { size: this.count, taken, free, signed: Atomics.load(this.words, SIGNED) };
  }

  private stateAt(lane: number): number {
    return HEADER + WORDS_PER_LANE * lane;
  }

  private state(lane: number): number {
    return Atomics.load(this.words, this.stateAt(lane));
  }

  private leave(lane: number, state: number): void {
    this.started[lane] = 0;
    Atomics.store(this.words, this.stateAt(lane), state);
    Atomics.notify(this.words, this.stateAt(lane));
  }

  private sessionOf(lane: number): Buffer {
    return Buffer.from(this.handles.slice(lane * HANDLE_BYTES, (lane + 1) * HANDLE_BYTES));
  }

  // --- worker side ---

  /**
   * A free lane of this generation with the gate open, taken by thread `owner` (its threadId, > 0)
   * for the call `tag`; or undefined (sign through the event loop).
   */
  take(generation: number, owner: number, tag: number): { lane: number; session: Buffer } | undefined {
    for (let lane = 0; lane < this.count; lane++) {
      if (Atomics.compareExchange(this.words, this.stateAt(lane), FREE, TAKEN + owner) !== FREE) continue;
      if (Atomics.load(this.words, GATE) === 1 && Atomics.load(this.words, GENERATION) === generation) {
        Atomics.store(this.words, this.stateAt(lane) + 1, tag);
        this.started[lane] = Date.now();
        return { lane, session: this.sessionOf(lane) };
      }
      this.leave(lane, FREE);
      return undefined;
    }
    return undefined;
  }

  /** Gives the lane back once the module returned; `failed`: its session is to be replaced. */
  release(lane: number, outcome: { failed: boolean }): void {
    if (!outcome.failed) Atomics.add(this.words, SIGNED, 1);
    this.leave(lane, outcome.failed ? BROKEN : FREE);
  }

  // --- event loop side ---

  /**
   * Shuts the gate, moves to a new generation, and resolves once no lane is taken: from then on no
   * worker enters the module until `openGate`. The lanes' sessions stay open.
   */
  async closeGate(): Promise<void> {
    Atomics.store(this.words, GATE, 0);
    this.invalidateTickets();
    for (let lane = 0; lane < this.count; lane++) {
      for (let state = this.state(lane); state >= TAKEN; state = this.state(lane)) {
        const wait = waitAsync(this.words, this.stateAt(lane), state);
        if (wait.async) await wait.value;
      }
    }
  }

  openGate(): void {
    Atomics.store(this.words, GATE, 1);
  }

  get gateOpen(): boolean {
    return Atomics.load(this.words, GATE) === 1;
  }

  /** Moves to a new generation: tickets handed out before are refused. */
  invalidateTickets(): void {
    Atomics.add(this.words, GENERATION, 1);
  }

  /** Marks every lane as having no session, without touching them: the module already ended them (gate shut). */
  forgetSessions(): void {
    for (let lane = 0; lane < this.count; lane++) Atomics.store(this.words, this.stateAt(lane), CLOSED);
  }

  /** Closes every lane's session (gate shut, before the module ends). */
  closeSessions(close: (session: Buffer) => void): void {
    for (let lane = 0; lane < this.count; lane++) {
      const state = this.state(lane);
      if (state === FREE || state === BROKEN) {
        try {
          close(this.sessionOf(lane));
        } catch {
          // ending anyway
        }
      }
      Atomics.store(this.words, this.stateAt(lane), CLOSED);
    }
  }

  /** Whether any lane needs a session. */
  get needsMending(): boolean {
    for (let lane = 0; lane < this.count; lane++) {
      const state = this.state(lane);
      if (state === BROKEN || state === CLOSED) return true;
    }
    return false;
  }

  /**
   * Gives each broken or closed lane a new session (`open`), closing a broken lane's old one first
   * (`close`, errors ignored). A lane whose session cannot be opened stays closed until the next try.
   * Returns whether a broken lane was among them: a call failed on a lane since the last mending.
   */
  mend(open: () => Buffer, close: (session: Buffer) => void): { hadBroken: boolean } {
    let hadBroken = false;
    for (let lane = 0; lane < this.count; lane++) {
      const state = this.state(lane);
      if (state !== BROKEN && state !== CLOSED) continue;
      if (Atomics.compareExchange(this.words, this.stateAt(lane), state, TAKEN + EVENT_LOOP) !== state) continue;
      if (state === BROKEN) {
        hadBroken = true;
        try {
          close(this.sessionOf(lane));
        } catch {
          // it failed already: that is why it is replaced
        }
      }
      let next = CLOSED;
      try {
        const session = open();
        if (session.length === HANDLE_BYTES) {
          this.handles.set(session, lane * HANDLE_BYTES);
          next = FREE;
        } else {
          close(session);
        }
      } catch {
        // tried again at the next stamp
      }
      this.leave(lane, next);
    }
    return { hadBroken };
  }

  /**
   * Lanes left taken by a thread that is gone (terminated inside the module, as a request's deadline
   * does): it never gives them back, and it has left the module, so their sessions are replaced.
   */
  reclaimFrom(owner: number): void {
    for (let lane = 0; lane < this.count; lane++) {
      if (Atomics.compareExchange(this.words, this.stateAt(lane), TAKEN + owner, BROKEN) === TAKEN + owner) this.leave(lane, BROKEN);
    }
  }

  /** The tags of the calls inside the module on a lane for longer than `ms`. */
  overdue(ms: number, now = Date.now()): number[] {
    const tags: number[] = [];
    for (let lane = 0; lane < this.count; lane++) {
      const started = this.started[lane]!;
      if (started > 0 && now - started > ms && this.state(lane) >= TAKEN) tags.push(Atomics.load(this.words, this.stateAt(lane) + 1));
    }
    return tags;
  }

  /** How long the longest call now inside the module on a lane has been running (ms). */
  longestCallMs(now = Date.now()): number {
    let longest = 0;
    for (let lane = 0; lane < this.count; lane++) if (this.started[lane]! > 0) longest = Math.max(longest, now - this.started[lane]!);
    return longest;
  }
}
