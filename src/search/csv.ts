/**
 * CSV as RFC 4180 has it (CRLF line ends; a field with a comma, quote or line break in double quotes,
 * quotes doubled), made safe to open in a spreadsheet: a cell starting with = + - @ (or a tab or carriage
 * return, which some spreadsheets skip before looking) is prefixed with ' so it is shown as text and never
 * run as a formula (CSV injection) — file names and case numbers come from clients.
 */
export type CsvValue = string | number | null | undefined;

export interface CsvColumn<Row> {
  header: string;
  value(row: Row): CsvValue;
}

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly CsvValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
