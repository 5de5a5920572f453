/** OpenAPI pieces shared by the search APIs (GET /v1/stamps, /v1/licences, /v1/audit). */
import { problemResponse } from '../openapi.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../search-query.js';

interface FilterDoc {
  schema: Record<string, unknown>;
  example: string | number;
  description?: string;
}

/** The list's filters, then limit, cursor and format. */
export function listParameters(filters: Record<string, FilterDoc>): Record<string, unknown>[] {
  return [
    ...Object.entries(filters).map(([name, doc]) => ({ name, in: 'query', required: false, ...doc })),
    { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }, example: 100 },
    { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: '`nextCursor` of the previous page, with the same filters (another query\'s cursor, or an altered one, is refused with 400).' },
    { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'csv'], default: 'json' }, description: '`csv` (or `Accept: text/csv`): every matching row as CSV; limit is ignored.' },
  ];
}

export function listResponses(itemRef: string, jsonExample: unknown, csvExample: string, forbidden: string): Record<string, unknown> {
  return {
    200: {
      description: 'A page, newest first, or every matching row as CSV.',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['items', 'nextCursor'],
            properties: { items: { type: 'array', items: { $ref: itemRef } }, nextCursor: { type: ['string', 'null'], description: 'null on the last page' } },
          },
          example: jsonExample,
        },
        'text/csv': { schema: { type: 'string' }, example: csvExample },
      },
    },
    400: problemResponse('An unknown or repeated parameter, a malformed time or limit, or a cursor this query did not give out; `errors` names the parameter.'),
    401: problemResponse('No session token or API key, or a wrong, expired or revoked one.'),
    403: problemResponse(forbidden),
  };
}
