/**
 * An item's stamp profile: how its documents are stamped (seal, level, placement, certification) and
 * what its signature says about who handled it. Parsing here is shared by the catalogue import (which
 * refuses a bad profile) and the stamp path (which applies a stored one).
 */
import type { DocMdpPermission } from '../signing/signature-dict.js';
import type { PadesLevel } from '../signing/sign-pdf.js';
import type { StampPlacement } from '../stamping/stamper.js';

export const LEVELS: readonly PadesLevel[] = ['B-B', 'B-T', 'B-LT', 'B-LTA'];
/** Stamp options a profile may let a request set; seal, reason and location always come from the item. */
export const OVERRIDABLE = ['placement', 'level', 'certify', 'straddle', 'contactInfo'] as const;
export type Overridable = (typeof OVERRIDABLE)[number];
export const DEFAULT_REASON_TEMPLATE = '{handling}（{item}）';
const PLACEHOLDERS = ['handling', 'item', 'department'];
const MAX_ANCHOR = 200;
const MAX_FIELD = 128;

/** "anchor:TEXT" | "field:NAME" | "position:PAGE,X,Y" (mm from the lower-left corner) | "invisible"; a message when bad. */
export function parsePlacement(spec: string): StampPlacement | string {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'invisible':
      return colon < 0 ? { kind: 'invisible' } : '"invisible" takes nothing after it';
    case 'anchor':
      if (arg.trim() === '' || arg.length > MAX_ANCHOR || /\p{Cc}/u.test(arg)) return `the anchor text must be 1 to ${MAX_ANCHOR} characters without control characters`;
      return { kind: 'anchor', text: arg };
    case 'field':
      if (!/^[^\p{Cc}.]{1,128}$/u.test(arg)) return `the field name must be 1 to ${MAX_FIELD} characters without dots or control characters`;
      return { kind: 'field', name: arg };
    case 'position': {
      const m = /^(\d+),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(arg.replace(/\s/g, ''));
      if (!m || Number(m[1]) < 1) return 'a position is "position:PAGE,X,Y" (page from 1, the seal centre in mm from the lower-left corner)';
      return { kind: 'position', page: Number(m[1]), x: Number(m[2]), y: Number(m[3]), unit: 'mm' };
    }
    default:
      return `placement must be anchor:TEXT, field:NAME, position:PAGE,X,Y or invisible, not "${spec}"`;
  }
}

/** A message when the template is bad: it must name the handling body and the item, and nothing unknown. */
export function reasonTemplateProblem(template: string): string | undefined {
  if (template.length > 120 || /\p{Cc}/u.test(template)) return 'must be up to 120 characters without control characters';
  const used = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
  const unknown = used.filter((p) => !PLACEHOLDERS.includes(p));
  if (unknown.length) return `knows only {${PLACEHOLDERS.join('}, {')}}, not {${unknown.join('}, {')}}`;
  if (!used.includes('handling') || !used.includes('item')) return 'must contain {handling} and {item}: every stamp says who handled which item';
  return undefined;
}

/** Who handled a stamp: a centre acting for the bureau, or the bureau's own hall. */
export function handlingText(handler: { centreName: string | null; organisation: string }): string {
  return handler.centreName ? `受托办理：${handler.centreName}` : `办理：${handler.organisation}`;
}

export function renderReason(template: string | null, values: { handling: string; item: string; department: string }): string {
  return (template ?? DEFAULT_REASON_TEMPLATE).replace(/\{(handling|item|department)\}/g, (_, k: keyof typeof values) => values[k]);
}

export function certifyOf(n: number | null): DocMdpPermission | undefined {
  return n === null ? undefined : (n as DocMdpPermission);
}
