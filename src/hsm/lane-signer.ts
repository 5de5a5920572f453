/**
 * The worker side of signing lanes (./lanes.ts): a stamp's signature made in the PDF worker that
 * needs it, on a session the event loop opened, with blocking calls on the worker's own thread (a
 * hop through libuv's pool and back cost more CPU than it saved). The module is the process's own,
 * initialised and logged in by the event loop; loading it here only looks up its function list, so
 * session and object handles mean the same on both sides.
 *
 * Whatever goes wrong on a lane (none free, a stale ticket, a module error) sends the signature the
 * usual way, through the event loop, whose recovery (new session, new login, reconnect) decides what
 * the caller sees. A call the HSM holds past its time-out is the event loop's to end: it watches the
 * lanes (Hsm.leaseLane) and cancels the task, which ends this thread.
 */
import { threadId } from 'node:worker_threads';
import pkcs11 from 'pkcs11js';
import { signingCall } from './key-templates.js';
import { SigningLanes } from './lanes.js';
import type { HashAlgorithm, KeyAlgorithm } from './types.js';

/** What the event loop hands a worker with a stamp (Hsm.leaseLane): valid for one generation of the lanes. */
export interface LaneTicket {
  lanes: SharedArrayBuffer;
  modulePath: string;
  generation: number;
  /** Names this lease to the event loop's watch for calls held past the time-out. */
  tag: number;
  algorithm: KeyAlgorithm;
  /** The private key's object handle, as read in `generation`. */
  keyHandle: Uint8Array;
}

export interface LaneSignature {
  signature: Uint8Array;
  seconds: number;
}

const modules = new Map<string, pkcs11.PKCS11>();
const views = new WeakMap<SharedArrayBuffer, SigningLanes>();

function moduleAt(path: string): pkcs11.PKCS11 {
  let lib = modules.get(path);
  if (!lib) {
    lib = new pkcs11.PKCS11();
    lib.load(path);
    modules.set(path, lib);
  }
  return lib;
}

function lanesOf(buffer: SharedArrayBuffer): SigningLanes {
  let lanes = views.get(buffer);
  if (!lanes) views.set(buffer, (lanes = SigningLanes.attach(buffer)));
  return lanes;
}

/** Signs the digest on a free lane; undefined when it should go through the event loop instead. */
export function signOnLane(ticket: LaneTicket, hash: HashAlgorithm, digest: Uint8Array): LaneSignature | undefined {
  const lanes = lanesOf(ticket.lanes);
  const taken = lanes.take(ticket.generation, threadId, ticket.tag);
  if (!taken) return undefined;
  const start = performance.now();
  const call = signingCall(ticket.algorithm, hash, digest);
  let raw: Uint8Array;
  try {
    const lib = moduleAt(ticket.modulePath);
    lib.C_SignInit(taken.session, call.mechanism, Buffer.from(ticket.keyHandle));
    raw = lib.C_Sign(taken.session, call.input, call.output);
  } catch {
    lanes.release(taken.lane, { failed: true });
    return undefined;
  }
  lanes.release(taken.lane, { failed: false });
  return { signature: call.finish(raw), seconds: (performance.now() - start) / 1000 };
}
