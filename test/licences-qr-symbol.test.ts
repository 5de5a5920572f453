import { createHash } from 'node:crypto';
import QRCode, { type QRCodeSegment } from 'qrcode';
import { describe, expect, it } from 'vitest';
import { createQr } from '../src/licences/qr-mask.js';
import { qrGeometry, qrQuietZone } from '../src/licences/qr.js';
import { urlSegments } from '../src/licences/qr-segments.js';

/** Fixed pseudo-random bytes, so every run compares the same symbols. */
const bytes = (seed: string, length: number): Buffer =>
  Buffer.concat(Array.from({ length: Math.ceil(length / 32) }, (_, i) => createHash('sha256').update(`${seed}/${i}`).digest())).subarray(0, length);

const URL_BASE = 'https://licences.example.gov.cn/v/1.2.156.3005.2.11100000000013338W001.11110108MB0129483M.00000001.001.J';

/** A licence's QR text as qr.ts hands it over: the URL in numeric/alphanumeric/byte runs, the signed fragment as bytes. */
function signedSegments(seed: string, fragmentLength: number): QRCodeSegment[] {
  const fragment = `#os1.${bytes(seed, fragmentLength).toString('base64url')}`;
  return [
    { mode: 'byte', data: Buffer.from('https://licences.example.gov.cn/v/') },
    { mode: 'numeric', data: '12156300521110000000001333' },
    { mode: 'byte', data: Buffer.from(`W001.11110108MB0129483M.00000001.001.J${fragment}`) },
  ];
}

describe('createQr', () => {
  const cases: Array<[string, string | QRCodeSegment[], 'L' | 'M']> = [
    ['a verification URL', URL_BASE, 'M'],
    ...Array.from({ length: 20 }, (_, i) => [`short URL ${i}`, `https://licences.example.gov.cn/v/${i}`, 'M'] as [string, string, 'M']),
    ...Array.from({ length: 60 }, (_, i) => [`a URL with a ${i * 5}-character tail`, `${URL_BASE}?${bytes(`url${i}`, i * 4).toString('base64url').slice(0, i * 5)}`, 'M'] as [string, string, 'M']),
    ...Array.from({ length: 60 }, (_, i) => [`signed payload ${i}`, signedSegments(`signed${i}`, 440 + (i % 8)), 'L'] as [string, QRCodeSegment[], 'L']),
  ];

  it.each(cases)('gives %s the mask and modules qrcode chooses', (_, data, level) => {
    const ours = createQr(data, level);
    const theirs = QRCode.create(data, { errorCorrectionLevel: level });
    expect(ours.maskPattern).toBe(theirs.maskPattern);
    expect(ours.modules.size).toBe(theirs.modules.size);
    expect(Buffer.from(ours.modules.data).equals(Buffer.from(theirs.modules.data))).toBe(true);
  });

  it('comes across every mask among the cases, so each one is compared', () => {
    const chosen = new Set(cases.map(([, data, level]) => createQr(data, level).maskPattern));
    expect([...chosen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('qrQuietZone', () => {
  // A square too small for the print grid: the module size, and so the quiet zone, follows the symbol's size.
  it('lays out the same quiet zone as the symbol drawn later, for signed texts of several sizes and twice each', () => {
    const texts = [0, 1, 2, 60, 120, 121, 300].map((extra, i) => `${URL_BASE}#os1.${bytes(`zone${i}`, 440 + extra).toString('base64url')}`);
    texts.push(texts[0]!.replace(/#os1\.[A-Za-z0-9_-]{8}/, '#os1.AAAAAAAA'));
    const zones = new Set<number>();
    for (const text of [...texts, ...texts]) {
      const zone = qrQuietZone(text, 31.7, 45.2, 60, 595.3);
      expect(zone, text.slice(-20)).toBe(qrGeometry(text, 31.7, 45.2, 60, 595.3).quietZone);
      zones.add(zone);
    }
    expect(zones.size).toBeGreaterThan(2);
  });
});

describe('urlSegments', () => {
  const fresh = (url: string) => QRCode.create(url, { errorCorrectionLevel: 'L', maskPattern: 0 }).segments.map((s) => [s.mode.id, Buffer.from(s.mode.id === 'Byte' ? s.data : String(s.data)).toString('utf8')]);
  const ours = (url: string) => urlSegments(url).map((s) => [s.mode === 'byte' ? 'Byte' : s.mode === 'numeric' ? 'Numeric' : 'Alphanumeric', Buffer.from(typeof s.data === 'number' ? String(s.data) : s.data).toString('utf8')]);

  it('splits URLs of one pattern (other digits, other check characters) as qrcode optimises each of them', () => {
    const urls = [
      URL_BASE,
      URL_BASE.replace('00000001', '00093517').replace(/J$/, '7'),
      URL_BASE.replace('00000001', '12345678').replace(/J$/, 'Q'),
      'https://licences.example.gov.cn/v/1.2.156.3005.2.11100000000013338W001.110108.00000002.001.4',
      'HTTPS://LICENCES.EXAMPLE.GOV.CN/V/1.2.156.3005.2.11100000000013338W001.11110108MB0129483M.00000001.001.J',
      'https://证照.example.cn/v/1.2.156.3005.2.11100000000013338W001.11110108MB0129483M.00000003.002.K',
    ];
    for (const url of [...urls, ...urls]) expect(ours(url), url).toEqual(fresh(url));
  });
});
