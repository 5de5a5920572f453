/** The catalogue file reader, the profile's pieces and the bounded metric labels, without a server. */
import { describe, expect, it } from 'vitest';
import { readCatalogue } from '../src/items/catalogue-file.js';
import { parsePlacement, reasonTemplateProblem, renderReason } from '../src/items/profile.js';
import { BoundedLabel } from '../src/observability/handling-metrics.js';

describe('catalogue files', () => {
  it('reads quoted CSV fields (commas, quotes, line breaks) and keeps each record\'s first line', () => {
    const rows = readCatalogue('\uFEFFcode,name\r\nA,"甲,乙"\n\nB,"说""明""\n第二行"\nC,丙\n', 'csv');
    expect(rows).toEqual([
      { line: 2, fields: { code: 'A', name: '甲,乙' } },
      { line: 4, fields: { code: 'B', name: '说"明"\n第二行' } },
      { line: 6, fields: { code: 'C', name: '丙' } },
    ]);
  });

  it('names the line of a row with the wrong number of fields, or an unclosed quote', () => {
    expect(() => readCatalogue('code,name\nA,甲\nB\n', 'csv')).toThrow(/line 3.*1 fields where the header has 2/);
    expect(() => readCatalogue('code,name\nA,"甲\n', 'csv')).toThrow(/line 2.*not closed/);
  });

  it('finds the line each JSON item starts on, strings with brackets and escapes included', () => {
    const rows = readCatalogue('[\n {"code": "A", "name": "[x]\\"{"},\n\n {"code": "B",\n  "overridable": ["placement", "level"]}]', 'json');
    expect(rows.map((r) => r.line)).toEqual([2, 4]);
    expect(rows[1]!.fields.overridable).toBe('placement|level');
    expect(() => readCatalogue('{"code": "A"}', 'json')).toThrow(/array of items/);
  });
});

describe('profiles', () => {
  it('parse the four placements and refuse anything else', () => {
    expect(parsePlacement('anchor:（盖章）')).toEqual({ kind: 'anchor', text: '（盖章）' });
    expect(parsePlacement('position:2,150.5,40')).toEqual({ kind: 'position', page: 2, x: 150.5, y: 40, unit: 'mm' });
    expect(parsePlacement('field:Approval')).toEqual({ kind: 'field', name: 'Approval' });
    expect(parsePlacement('invisible')).toEqual({ kind: 'invisible' });
    for (const bad of ['anchor:', 'anchor:\u0007', 'position:0,1,1', 'position:1,1', 'field:a.b', 'corner', 'invisible:x']) expect(typeof parsePlacement(bad)).toBe('string');
  });

  it('render reasons that always say who handled which item', () => {
    expect(renderReason(null, { handling: '受托办理：东村镇便民服务中心', item: '食品经营许可', department: '市场监管' })).toBe('受托办理：东村镇便民服务中心（食品经营许可）');
    expect(reasonTemplateProblem('{item}')).toMatch(/\{handling\}/);
    expect(reasonTemplateProblem('{handling}{item}{seal}')).toMatch(/not \{seal\}/);
    expect(reasonTemplateProblem('{handling}：{item}（{department}）')).toBeUndefined();
  });
});

describe('bounded labels', () => {
  it('keep the first values and call later ones, and the reserved words, "other"', () => {
    const label = new BoundedLabel(2, 'none');
    expect([label.value('a'), label.value('b'), label.value('c'), label.value('a'), label.value(null), label.value('none'), label.value('x'.repeat(65))])
      .toEqual(['a', 'b', 'other', 'a', 'none', 'other', 'other']);
  });
});
