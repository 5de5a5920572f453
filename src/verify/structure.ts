/**
 * The structural checks that stop universal signature forgery and signature wrapping: a well-formed
 * /ByteRange [0 a b c] whose gap is exactly this dictionary's /Contents hex string and whose end is
 * the end of a revision, and a non-empty signature value.
 */
import { PdfString, type PdfDict } from '../pdf/objects.js';
import type { PdfReader } from '../pdf/reader.js';
import { detail, reason, type Reason } from './reasons.js';

export interface ByteRangeLayout {
  /** [start, end) of the two signed ranges. */
  ranges: [[number, number], [number, number]];
  /** [start, end) of the unsigned gap (the /Contents token). */
  gap: [number, number];
  end: number;
}

export interface StructureResult {
  reasons: Reason[];
  layout?: ByteRangeLayout;
  /** The revision whose %%EOF the signed range ends at. */
  signedRevision?: number;
  /** The signature value (CMS bytes, possibly zero padded), when present. */
  contents?: Uint8Array;
}

const badRange = (zh: string, en: string): Reason => reason('BYTE_RANGE', detail(zh, en));

/** Reads /ByteRange; a BYTE_RANGE reason when it is not exactly four non-negative integers [0 a b c] with a < b inside the file. */
export function readByteRange(dict: PdfDict, fileLength: number): ByteRangeLayout | Reason {
  const br = dict.get('ByteRange');
  if (!Array.isArray(br) || br.length !== 4) {
    return badRange('ByteRange 缺失或不是 4 个整数。', 'It is missing or not four integers.');
  }
  if (!br.every((x): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    return badRange('ByteRange 含有非整数或负数。', 'It holds a value that is not a non-negative integer.');
  }
  const [s1, l1, s2, l2] = br as [number, number, number, number];
  if (s1 !== 0) return badRange('签名范围没有从文件开头开始。', 'The signed range does not start at the beginning of the file.');
  if (!(l1 < s2)) return badRange('两个签名范围的顺序或长度不正确。', 'The two signed ranges are out of order or overlap.');
  if (s2 + l2 > fileLength) return badRange('签名范围超出文件末尾。', 'The signed range runs past the end of the file.');
  return { ranges: [[0, l1], [s2, s2 + l2]], gap: [l1, s2], end: s2 + l2 };
}

/** True when `end` is just past a %%EOF marker, allowing the line end variants (none, LF, CR, CRLF). */
function endsAtEofMarker(bytes: Uint8Array, end: number): boolean {
  const eof = [0x25, 0x25, 0x45, 0x4f, 0x46];
  for (const eol of [0, 1, 2]) {
    const at = end - eol - 5;
    if (at < 0) continue;
    const tail = bytes.subarray(end - eol, end);
    const tailOk = eol === 0 || (eol === 1 ? tail[0] === 0x0a || tail[0] === 0x0d : tail[0] === 0x0d && tail[1] === 0x0a);
    if (tailOk && eof.every((c, i) => bytes[at + i] === c)) return true;
  }
  return false;
}

/** The revision a signed range ending at `end` covers: the one whose %%EOF it ends just after. */
export function revisionEndingAt(reader: PdfReader, end: number): number | undefined {
  if (!endsAtEofMarker(reader.bytes, end)) return undefined;
  for (const rev of reader.revisions) {
    // eofOffset includes the line end; a signer may have stopped before it.
    if (end <= rev.eofOffset && rev.eofOffset - end <= 2) {
      const between = reader.bytes.subarray(end, rev.eofOffset);
      if (between.every((c) => c === 0x0a || c === 0x0d)) return rev.index;
    }
  }
  return undefined;
}

export function checkStructure(reader: PdfReader, dict: PdfDict): StructureResult {
  const reasons: Reason[] = [];
  const contents = dict.get('Contents');
  let value: Uint8Array | undefined;
  if (!(contents instanceof PdfString)) {
    reasons.push(reason('CONTENTS_MISSING'));
  } else if (contents.bytes.length === 0 || contents.bytes.every((b) => b === 0)) {
    reasons.push(reason('CONTENTS_MISSING'));
  } else {
    value = contents.bytes;
  }
  const layout = readByteRange(dict, reader.bytes.length);
  if (!('ranges' in layout)) {
    reasons.push(layout);
    return { reasons, contents: value };
  }
  if (contents instanceof PdfString) {
    if (!contents.hex || contents.start !== layout.gap[0] || contents.end !== layout.gap[1]) {
      reasons.push(
        badRange(
          '未签名的间隙不是本签名的 /Contents 十六进制串（签名包装攻击）。',
          "The unsigned gap is not exactly this signature's /Contents hex string (signature wrapping).",
        ),
      );
    }
  }
  const signedRevision = revisionEndingAt(reader, layout.end);
  if (signedRevision === undefined) {
    reasons.push(badRange('签名范围没有在某个修订版本的 %%EOF 处结束。', 'The signed range does not end at the %%EOF of a revision.'));
  }
  return { reasons, layout, signedRevision, contents: value };
}

/** Gaps of different signatures must not overlap: one signature's unsigned hole cannot hide inside another's. */
export function overlappingGaps(layouts: (ByteRangeLayout | undefined)[]): Set<number> {
  const bad = new Set<number>();
  for (let i = 0; i < layouts.length; i++) {
    for (let j = i + 1; j < layouts.length; j++) {
      const a = layouts[i];
      const b = layouts[j];
      if (!a || !b) continue;
      if (a.gap[0] < b.gap[1] && b.gap[0] < a.gap[1]) {
        bad.add(i);
        bad.add(j);
      }
    }
  }
  return bad;
}
