/**
 * OpenAPI 3.1: each route module documents its own paths when it registers them, so the document
 * served at /openapi.json always matches the routes this app really has.
 */
export type OpenApiPaths = Record<string, Record<string, unknown>>;
export type OpenApiSchemas = Record<string, unknown>;

export class OpenApiRegistry {
  private readonly paths: OpenApiPaths = {};
  private readonly schemas: OpenApiSchemas = {};

  /**
   * Adds operations (merged per path, so two modules may share a path with different methods). Every
   * request body is read through src/api/body.ts, which answers 400 to a malformed body and to a client
   * that stops sending it: an operation with a body that does not document its own 400 gets that one.
   */
  add(paths: OpenApiPaths, schemas: OpenApiSchemas = {}): void {
    for (const [path, ops] of Object.entries(paths)) {
      const withBodyProblems = Object.fromEntries(Object.entries(ops).map(([method, op]) => [method, withMalformedBody(op as Operation)]));
      this.paths[path] = { ...this.paths[path], ...withBodyProblems };
    }
    Object.assign(this.schemas, schemas);
  }

  document(info: { version: string; serverUrl: string }): Record<string, unknown> {
    return {
      openapi: '3.1.0',
      info: {
        title: 'OneSeal API',
        version: info.version,
        description:
          'Electronic seals (电子印章) and electronic licences (电子证照): visibly stamped, PAdES-signed PDFs with keys in an HSM, verification, and public licence status. Errors are RFC 9457 problem+json.',
      },
      servers: [{ url: info.serverUrl }],
      paths: leadingFirst(this.paths),
      components: {
        schemas: { Problem: PROBLEM_SCHEMA, ...this.schemas },
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A person\'s session token (POST /v1/sessions) or a system client\'s API key (`oneseal client add`); what each may do is the policy table in src/access/policy.ts' } },
      },
    };
  }
}

type Operation = { requestBody?: unknown; responses?: Record<string, unknown> };

function withMalformedBody(op: Operation): Operation {
  if (!op.requestBody || op.responses?.['400']) return op;
  return { ...op, responses: { ...op.responses, 400: problemResponse('Malformed body (not valid JSON or form data), or the client stopped sending it (`client-aborted`)') } };
}

/** What integrators come for, first in the document and so first on /docs: stamping a PDF. */
const LEADING: readonly (readonly [path: string, method: string])[] = [['/v1/stamps', 'post'], ['/v1/stamp-batches', 'post'], ['/v1/verifications', 'post']];

function leadingFirst(paths: OpenApiPaths): OpenApiPaths {
  const ordered: OpenApiPaths = {};
  for (const [path, method] of LEADING) {
    const ops = paths[path];
    if (ops?.[method]) ordered[path] = { [method]: ops[method], ...ops };
  }
  return { ...ordered, ...paths, ...ordered };
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
  required: ['type', 'title', 'status'],
};

/** A problem+json response entry for an operation's `responses`. */
export function problemResponse(description: string): Record<string, unknown> {
  return { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
}
