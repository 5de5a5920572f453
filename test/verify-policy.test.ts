/**
 * The permission rules on their own: DocMDP levels, FieldMDP locks, and overlays (annotations over
 * annotations, signatures or signed text; seals may sit on text).
 */
import { describe, expect, it } from 'vitest';
import type { Modification, Rect } from '../src/verify/diff.js';
import { judgeModifications, type Permissions } from '../src/verify/policy.js';

const mod = (kind: Modification['kind'], extra: Partial<Modification> = {}): Modification => ({ revision: 2, kind, details: `${kind} change`, ...extra });
const none = new Map<number, Rect[]>();
const noText = (_page: number): Rect[] => [];
const codes = (mods: Modification[], perms: Permissions, existing = none, text = noText): string[] =>
  judgeModifications(mods, perms, existing, text).map((r) => r.code);

describe('modification policy', () => {
  it('DocMDP P1 allows only LTV data and metadata', () => {
    const p1: Permissions = { docMdp: 1, locks: [] };
    expect(codes([mod('ltv'), mod('metadata')], p1)).toEqual([]);
    expect(codes([mod('ltv'), mod('signatures')], p1)).toEqual(['MODIFIED_AFTER_SIGNING']);
  });

  it('DocMDP P2 adds form filling and signatures, P3 annotations; "other" is never allowed', () => {
    expect(codes([mod('form-fill'), mod('signatures')], { docMdp: 2, locks: [] })).toEqual([]);
    expect(codes([mod('annotations')], { docMdp: 2, locks: [] })).toEqual(['MODIFIED_AFTER_SIGNING']);
    expect(codes([mod('annotations')], { docMdp: 3, locks: [] })).toEqual([]);
    for (const docMdp of [undefined, 3] as const) expect(codes([mod('other')], { docMdp, locks: [] })).toEqual(['MODIFIED_AFTER_SIGNING']);
  });

  it('FieldMDP locks the named fields (Include), all but the named (Exclude), or all', () => {
    const fill = (field: string) => [mod('form-fill', { fieldName: field })];
    expect(codes(fill('amount'), { locks: [{ action: 'Include', fields: ['amount'] }] })).toEqual(['MODIFIED_AFTER_SIGNING']);
    expect(codes(fill('note'), { locks: [{ action: 'Include', fields: ['amount'] }] })).toEqual([]);
    expect(codes(fill('amount'), { locks: [{ action: 'Exclude', fields: ['note'] }] })).toEqual(['MODIFIED_AFTER_SIGNING']);
    expect(codes(fill('note'), { locks: [{ action: 'All', fields: [] }] })).toEqual(['MODIFIED_AFTER_SIGNING']);
  });

  it('rejects overlays: annotations over annotations or signed text, signatures over signatures', () => {
    const existing = new Map<number, Rect[]>([[0, [[100, 100, 200, 150]]]]);
    const text = (page: number): Rect[] => (page === 0 ? [[300, 700, 400, 712]] : []);
    const at = (kind: Modification['kind'], rect: Rect) => [mod(kind, { page: 0, rect })];
    expect(codes(at('annotations', [150, 120, 250, 170]), { locks: [] }, existing, text)).toEqual(['MODIFIED_AFTER_SIGNING']);
    expect(codes(at('signatures', [150, 120, 250, 170]), { locks: [] }, existing, text)).toEqual(['MODIFIED_AFTER_SIGNING']);
    expect(codes(at('annotations', [350, 705, 360, 709]), { locks: [] }, existing, text)).toEqual(['MODIFIED_AFTER_SIGNING']);
    // A seal stamped over the signatory's printed name is how seals are used.
    expect(codes(at('signatures', [350, 690, 420, 760]), { locks: [] }, existing, text)).toEqual([]);
    // Touching borders do not overlap.
    expect(codes(at('annotations', [200, 100, 260, 150]), { locks: [] }, existing, text)).toEqual([]);
  });
});
