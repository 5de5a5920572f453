/**
 * The messages between the pool (main thread) and its workers, and how errors cross: a OneSealError
 * keeps its code, kind, fields and extra members (structured clone keeps only an Error's message).
 */
import { OneSealError, PdfError, type ErrorKind, type FieldError } from '../errors.js';

export interface WireError {
  name: string;
  message: string;
  code?: string;
  kind?: ErrorKind;
  fields?: FieldError[];
  extra?: Record<string, unknown>;
  retryAfter?: number;
}

/** What a worker is started with (its workerData). */
export interface WorkerSetup {
  nice: number;
}

export type ToWorker =
  | { type: 'task'; kind: string; payload: unknown }
  | { type: 'reply'; callId: number; value?: unknown; error?: WireError };

export type FromWorker =
  | { type: 'call'; callId: number; method: string; args: unknown[] }
  | ({ type: 'done'; value: unknown } & TaskMemory)
  | ({ type: 'failed'; error: WireError } & TaskMemory);

/** A worker's memory after a task, and how much of it that task added: whether the worker is recycled. */
export interface TaskMemory {
  heapBytes: number;
  grewBytes: number;
}

export function toWire(e: unknown): WireError {
  if (e instanceof OneSealError) {
    return { name: e.name, message: e.message, code: e.code, kind: e.kind, fields: e.fields, extra: e.extra, retryAfter: e.retryAfter };
  }
  return { name: 'Error', message: e instanceof Error ? e.message : String(e) };
}

export function fromWire(w: WireError): Error {
  if (w.code && w.kind) {
    const options = { fields: w.fields, extra: w.extra, retryAfter: w.retryAfter };
    return w.name === 'PdfError'
      ? new PdfError(w.code as ConstructorParameters<typeof PdfError>[0], w.message, options)
      : new OneSealError(w.code, w.kind, w.message, options);
  }
  return new Error(w.message);
}
