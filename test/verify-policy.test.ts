/**
 * The permission rules on their own, on stub changes: DocMDP levels as ceilings, FieldMDP locks,
 * overlays (annotations over annotations, signatures or signed text; seals may sit on text except
 * on a certified document), and the strict policy's refusal of new visible signatures after
 * certification. The revision rules that produce real changes are tested in verify-diff-rules.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Change, Rect } from '../src/verify/diff/levels.js';
import { STANDARD_POLICY, STRICT_POLICY, ceiling, judgeChanges, type Permissions, type SignedView } from '../src/verify/policy.js';

const change = (level: Change['level'], kind: Change['kind'], extra: Partial<Change> = {}): Change => ({
  revision: 2,
  level,
  kind,
  message: { zh: kind, en: kind },
  ...extra,
});
const blank: SignedView = { annotations: () => [], text: () => [] };
const refused = (changes: Change[], perms: Permissions, view = blank, policy = STANDARD_POLICY): boolean[] => judgeChanges(changes, perms, view, policy).map((j) => j.refusal !== undefined);

describe('permission rules', () => {
  it('DocMDP levels are ceilings on the ordered modification levels; "other" is never permitted', () => {
    expect(ceiling({ docMdp: 1, locks: [] })).toBe('lta-updates');
    expect(ceiling({ docMdp: 2, locks: [] })).toBe('form-filling');
    expect(ceiling({ docMdp: 3, locks: [] })).toBe('annotations');
    expect(ceiling({ locks: [] })).toBe('annotations');
    const all = [change('lta-updates', 'validation-data'), change('form-filling', 'form-fill'), change('annotations', 'annotation'), change('other', 'unexplained')];
    expect(refused(all, { docMdp: 1, locks: [] })).toEqual([false, true, true, true]);
    expect(refused(all, { docMdp: 2, locks: [] })).toEqual([false, false, true, true]);
    expect(refused(all, { docMdp: 3, locks: [] })).toEqual([false, false, false, true]);
    expect(refused(all, { locks: [] })).toEqual([false, false, false, true]);
  });

  it('FieldMDP locks the named fields (Include), all but the named (Exclude), or all; flag changes stay allowed', () => {
    const fill = (field: string, validWhenLocked = false) => [change('form-filling', 'form-fill', { fieldName: field, validWhenLocked })];
    expect(refused(fill('amount'), { locks: [{ action: 'Include', fields: ['amount'] }] })).toEqual([true]);
    expect(refused(fill('note'), { locks: [{ action: 'Include', fields: ['amount'] }] })).toEqual([false]);
    expect(refused(fill('amount'), { locks: [{ action: 'Exclude', fields: ['note'] }] })).toEqual([true]);
    expect(refused(fill('note'), { locks: [{ action: 'All', fields: [] }] })).toEqual([true]);
    expect(refused(fill('note', true), { locks: [{ action: 'All', fields: [] }] })).toEqual([false]);
  });

  it('refuses overlays: annotations over annotations or signed text, signatures over signatures', () => {
    const view: SignedView = { annotations: (p) => (p === 0 ? [[100, 100, 200, 150]] : []), text: (p) => (p === 0 ? [[300, 700, 400, 712]] : []) };
    const at = (kind: 'annotation' | 'signature', rect: Rect) =>
      change(kind === 'annotation' ? 'annotations' : 'form-filling', kind, {
        placements: [{ page: 0, rect }],
        signature: kind === 'signature' ? { fieldName: 'S', visible: true, newField: true, covered: true } : undefined,
      });
    expect(refused([at('annotation', [150, 120, 250, 170])], { locks: [] }, view)).toEqual([true]);
    expect(refused([at('signature', [150, 120, 250, 170])], { locks: [] }, view)).toEqual([true]);
    expect(refused([at('annotation', [350, 705, 360, 709])], { locks: [] }, view)).toEqual([true]);
    // A seal stamped over the signatory's printed name is how seals are used …
    expect(refused([at('signature', [350, 690, 420, 760])], { locks: [] }, view)).toEqual([false]);
    // … but on a certified document that is the sneaky signature attack.
    expect(refused([at('signature', [350, 690, 420, 760])], { docMdp: 2, locks: [] }, view)).toEqual([true]);
    expect(refused([at('signature', [450, 690, 520, 760])], { docMdp: 2, locks: [] }, view)).toEqual([false]);
    // Touching borders do not overlap; two additions may not stack on each other.
    expect(refused([at('annotation', [200, 100, 260, 150])], { locks: [] }, view)).toEqual([false]);
    expect(refused([at('annotation', [500, 10, 560, 60]), at('annotation', [520, 20, 580, 70])], { locks: [] }, view)).toEqual([false, true]);
  });

  it('the strict policy (pyHanko) refuses any new visible signature after certification, not a prepared field or an invisible one', () => {
    const sig = (visible: boolean, newField: boolean) => change('form-filling', 'signature', { signature: { fieldName: 'S', visible, newField, covered: true } });
    const certified: Permissions = { docMdp: 2, locks: [] };
    expect(refused([sig(true, true), sig(false, true), sig(true, false)], certified, blank, STRICT_POLICY)).toEqual([true, false, false]);
    expect(refused([sig(true, true)], certified, blank, STANDARD_POLICY)).toEqual([false]);
    expect(refused([sig(true, true)], { locks: [] }, blank, STRICT_POLICY)).toEqual([false]);
  });
});
