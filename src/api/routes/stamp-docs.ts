/** OpenAPI pieces shared by the stamp and stamp-batch operations. */
import { problemResponse } from '../openapi.js';
import type { STAMP_OPTION_NAMES } from '../stamp-options.js';

export const STAMP_OPTION_SCHEMA_PROPERTIES: Record<(typeof STAMP_OPTION_NAMES)[number], Record<string, unknown>> = {
  seal: { type: 'string', description: 'Seal id (GET /v1/seals). May be left out when the client is granted exactly one seal.' },
  page: { type: 'integer', minimum: 1, description: 'Page for coordinate placement (1 = first).' },
  x: { type: 'number', minimum: 0, description: 'Centre of the seal from the left edge of the page as displayed.' },
  y: { type: 'number', minimum: 0, description: 'Centre of the seal from the bottom edge of the page as displayed.' },
  unit: { type: 'string', enum: ['mm', 'pt'], default: 'mm', description: 'Unit of x and y.' },
  anchor: { type: 'string', maxLength: 200, description: 'Text to centre the seal on (first match; `page` narrows the search), e.g. （盖章）.' },
  field: { type: 'string', maxLength: 128, description: 'Name of an existing empty signature field to sign.' },
  invisible: { type: 'boolean', description: 'Sign without a visible seal.' },
  straddle: { type: 'boolean', default: false, description: 'Also cut the seal across the right edges of all pages (骑缝章).' },
  level: { type: 'string', enum: ['B-B', 'B-T', 'B-LT', 'B-LTA'], default: 'B-T', description: 'PAdES baseline level.' },
  certify: { type: 'integer', enum: [1, 2, 3], description: 'Make this a certification signature with these DocMDP permissions.' },
  reason: { type: 'string', maxLength: 200 },
  location: { type: 'string', maxLength: 200 },
  contactInfo: { type: 'string', maxLength: 200 },
  caseNumber: { type: 'string', maxLength: 64, description: 'The approval case (办件) number, recorded with the stamp.' },
  itemCode: { type: 'string', maxLength: 64, description: 'The service item (事项) code, recorded with the stamp.' },
};

export const commonProblems = {
  400: problemResponse('A field is missing or malformed; `errors` names each one.'),
  401: problemResponse('No API key or session token, or a wrong, expired or revoked one (WWW-Authenticate: Bearer).'),
  403: problemResponse('The caller lacks the stamps scope, or the client was not granted the seal; the problem names it.'),
  413: problemResponse('The upload is over the size limit (refused while it streams in).'),
  415: problemResponse('Neither multipart/form-data nor application/pdf.'),
  429: problemResponse('Over the client\'s request rate; Retry-After says when to try again.'),
  503: problemResponse('Timed out or a dependency (HSM, database) is unavailable; retry with the same Idempotency-Key.'),
};

export const STAMP_SCHEMAS = {
  Stamp: {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      client: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
      createdAt: { type: 'string', format: 'date-time' },
      seal: { type: 'object', properties: { id: { type: 'string' }, version: { type: 'integer' }, certSerial: { type: 'string' } } },
      sha256: { type: 'object', properties: { before: { type: 'string' }, after: { type: 'string' } } },
      level: { type: 'string' },
      placement: { type: 'object', description: 'What was asked (requested) and where the seal went (placed: page and /Rect).' },
      caseNumber: { type: ['string', 'null'] },
      itemCode: { type: ['string', 'null'] },
      filename: { type: ['string', 'null'] },
      batchId: { type: ['string', 'null'] },
      pdfUrl: { type: 'string' },
      personalData: { const: 'masked', description: 'Present when the caller may not see personal data (operators): caseNumber and filename are then left out.' },
    },
  },
};
