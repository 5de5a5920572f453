/**
 * HTML built by template functions: `html` escapes every interpolated value unless it is already Html
 * (made by `html` itself or by `raw` for text we wrote), so a value from the database or the request
 * can never become markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  return esc(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!;
  parts.forEach((p, i) => {
    out += render(p) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Markup we wrote ourselves (an SVG we generated): never a value from outside. */
export function raw(text: string): Html {
  return new Html(text);
}

export function join(parts: readonly Part[], separator: Part = ''): Html {
  return new Html(parts.map(render).join(render(separator)));
}
