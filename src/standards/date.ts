/**
 * Calendar dates as GB/T 7408 (ISO 8601) extended format, YYYY-MM-DD — the form licence data carries.
 * Only real Gregorian dates pass: 2023-02-29 and 2024-13-01 are rejected, not rolled over.
 */

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** True when year/month/day name a day that exists (years 1–9999). */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this one; UTC avoids DST surprises.
  const d = new Date(Date.UTC(2000, month, 0));
  d.setUTCFullYear(year, month, 0);
  return day <= d.getUTCDate();
}

/** Parses `YYYY-MM-DD`; undefined when the text is not exactly that form or not a real date. */
export function parseIsoDate(text: string): CalendarDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isRealDate(year, month, day) ? { year, month, day } : undefined;
}

/** Formats as the customary Chinese written date, e.g. 2025年05月22日 (issue dates on licences). */
export function formatChineseDate(date: CalendarDate): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${date.year}年${p2(date.month)}月${p2(date.day)}日`;
}
