/**
 * Lists whose order shows: /Annots (what is drawn on top), /Fields and /Kids (which widget a field
 * shows). A later revision may only add entries; removing, re-ordering or repeating one is how a
 * form or text is hidden behind another ("hide form via form", "hide text via form").
 */
import { PdfRef, type PdfValue } from '../../../pdf/objects.js';
import { valuesEqual } from '../objects.js';

export type ListProblem = 'removed' | 'reordered' | 'duplicated' | 'direct';

export function listProblem(before: readonly PdfValue[], after: readonly PdfValue[]): ListProblem | undefined {
  const afterNums = after.filter((v): v is PdfRef => v instanceof PdfRef).map((r) => r.num);
  if (new Set(afterNums).size !== afterNums.length) return 'duplicated';
  const beforeNums = before.filter((v): v is PdfRef => v instanceof PdfRef).map((r) => r.num);
  const kept = new Set(beforeNums);
  if (beforeNums.some((n) => !afterNums.includes(n))) return 'removed';
  const order = afterNums.filter((n) => kept.has(n));
  if (order.some((n, i) => n !== beforeNums[i])) return 'reordered';
  // Direct (inline) entries cannot be told apart by number: they must stay exactly as they were.
  const directBefore = before.filter((v) => !(v instanceof PdfRef));
  const directAfter = after.filter((v) => !(v instanceof PdfRef));
  if (directBefore.length !== directAfter.length || !directBefore.every((v, i) => valuesEqual(v, directAfter[i]))) return 'direct';
  return undefined;
}

export const asList = (v: PdfValue | undefined): PdfValue[] => (Array.isArray(v) ? v : []);
