/**
 * Reads a catalogue file (CSV with a header row, or a JSON array of objects) into rows of text fields,
 * each with the line it starts on, so every problem can be reported where the person will look for it.
 */
import { OneSealError } from '../errors.js';

export interface CatalogueRow {
  line: number;
  fields: Record<string, string>;
}

export type CatalogueFormat = 'csv' | 'json';

function unreadable(message: string, line?: number): OneSealError {
  return new OneSealError('invalid-catalogue', 'unprocessable', `The catalogue cannot be read${line ? ` (line ${line})` : ''}: ${message}`,
    { fields: [{ field: line ? `line ${line}` : '(file)', message }], extra: { rows: [{ line: line ?? null, field: '(file)', message }] } });
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. Records keep their first line. */
function csvRecords(text: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let touched = false;
  const endRecord = () => {
    cells.push(cell);
    if (touched || cells.length > 1 || cell !== '') records.push({ line: start, cells });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') {
      if (cell !== '') throw unreadable('a quote in the middle of an unquoted field', line);
      quoted = true;
      touched = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      cell += c;
    }
  }
  if (quoted) throw unreadable('a quoted field is not closed', start);
  if (cell !== '' || cells.length > 0 || touched) endRecord();
  return records;
}

function readCsv(text: string): CatalogueRow[] {
  const [header, ...records] = csvRecords(text);
  if (!header) throw unreadable('the file is empty; the first line names the columns');
  const names = header.cells.map((c) => c.trim());
  return records.map((r) => {
    if (r.cells.length !== names.length) throw unreadable(`${r.cells.length} fields where the header has ${names.length}`, r.line);
    return { line: r.line, fields: Object.fromEntries(names.map((n, i) => [n, r.cells[i]!.trim()])) };
  });
}

/** The line each top-level array element starts on (the text is valid JSON: JSON.parse read it first). */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (depth === 1 && expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

function readJsonCatalogue(text: string): CatalogueRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw unreadable(`not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw unreadable('a JSON catalogue is an array of items');
  const lines = elementLines(text);
  return parsed.map((element, i) => {
    const line = lines[i] ?? 1;
    if (typeof element !== 'object' || element === null || Array.isArray(element)) throw unreadable('each item is a JSON object', line);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(element as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) fields[k] = v.join('|');
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = String(v).trim();
      else throw unreadable(`"${k}" must be a string, number or list of strings`, line);
    }
    return { line, fields };
  });
}

export function formatOf(filename: string | undefined, contentType?: string): CatalogueFormat | undefined {
  if (contentType?.includes('json') || filename?.toLowerCase().endsWith('.json')) return 'json';
  if (contentType?.includes('csv') || filename?.toLowerCase().endsWith('.csv')) return 'csv';
  return undefined;
}

export function readCatalogue(text: string, format: CatalogueFormat): CatalogueRow[] {
  const body = text.replace(/^\uFEFF/, '');
  return format === 'json' ? readJsonCatalogue(body) : readCsv(body);
}
