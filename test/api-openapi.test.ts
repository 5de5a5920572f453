/**
 * The OpenAPI document served at /openapi.json, walked operation by operation: what integrators and
 * /docs read must name every operation, every status it can answer with, and show a request to copy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStack, type Stack } from './support/stamp-stack.js';

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> };
  responses: Record<string, unknown>;
}

let stack: Stack;
let doc: { paths: Record<string, Record<string, Operation>> };
let operations: { method: string; path: string; op: Operation }[];
beforeAll(async () => {
  stack = await openStack();
  doc = (await (await fetch(`${stack.server.url}/openapi.json`)).json()) as typeof doc;
  operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })));
}, 120_000);
afterAll(() => stack?.close());

describe('GET /openapi.json', () => {
  it('gives every operation a unique operationId', () => {
    expect(operations.length).toBeGreaterThan(40);
    expect(operations.filter((o) => !o.op.operationId).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists 400 on every operation that takes input (a body or query parameters)', () => {
    const takesInput = operations.filter((o) => o.op.requestBody || o.op.parameters?.some((p) => p.in === 'query' && p.name !== 'lang'));
    expect(takesInput.length).toBeGreaterThanOrEqual(20);
    expect(takesInput.filter((o) => !o.op.responses['400']).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    // and where a 400 comes from something else: an API key where a person's session is needed
    for (const method of ['get', 'delete']) expect(doc.paths['/v1/sessions/current']![method]!.responses['400']).toBeDefined();
  });

  it('documents the upload part of /v/{id}/check as `document`, like POST /v1/verifications', () => {
    const check = doc.paths['/v/{id}/check']!.post!.requestBody!.content['multipart/form-data'] as { schema: { properties: Record<string, unknown> } };
    expect(Object.keys(check.schema.properties)).toEqual(['document']);
    const verifications = doc.paths['/v1/verifications']!.post!.requestBody!.content['multipart/form-data'] as { schema: { properties: Record<string, unknown> } };
    expect(Object.keys(verifications.schema.properties)).toEqual(['document']);
  });

  it('shows a request example for every request body, in each media type it takes', () => {
    const missing = operations.flatMap((o) =>
      Object.entries(o.op.requestBody?.content ?? {}).filter(([, c]) => c.example === undefined && c.examples === undefined).map(([type]) => `${o.method} ${o.path} ${type}`));
    expect(missing).toEqual([]);
  });

  it('puts POST /v1/stamps first (and so first on /docs)', () => {
    expect(Object.keys(doc.paths)[0]).toBe('/v1/stamps');
    expect(Object.keys(doc.paths['/v1/stamps']!)[0]).toBe('post');
  });
});
