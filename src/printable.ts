/**
 * Text taken from documents and certificates, made safe to print: control characters (ESC starts
 * terminal escape sequences, CR and LF forge lines), C1 controls and bidirectional overrides become
 * visible \u{…} escapes instead of acting on the terminal or the reader.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const UNSAFE_KEEPING_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const escape = (c: string): string => `\\u{${c.codePointAt(0)!.toString(16)}}`;

/** One value (a name, a field name, a message): nothing in it acts on a terminal, not even a line break. */
export const printable = (text: string): string => text.replace(UNSAFE, escape);

/** A whole text this program laid out: its own line breaks and tabs stay, every other control is escaped. */
export const printableLines = (text: string): string => text.replace(UNSAFE_KEEPING_LINES, escape);

/** JSON for a terminal: JSON.stringify escapes C0 controls but not DEL, C1 controls or bidi overrides. */
export const printableJson = (value: unknown): string =>
  JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
