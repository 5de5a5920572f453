/**
 * Data for reading text drawn with simple fonts: the base encodings, glyph names used by
 * /Differences, and the metrics of the standard 14 fonts (which PDFs may use without /Widths).
 */

/**
 * Glyph name → Unicode for names whose character is not the name itself ("a" is "a"): the
 * Adobe Glyph List entries for the characters of the Latin base encodings, as "name hex" pairs.
 */
const GLYPH_NAMES = `space 20 exclam 21 quotedbl 22 numbersign 23 dollar 24 percent 25 ampersand 26 quotesingle 27
parenleft 28 parenright 29 asterisk 2a plus 2b comma 2c hyphen 2d period 2e slash 2f zero 30 one 31 two 32 three 33
four 34 five 35 six 36 seven 37 eight 38 nine 39 colon 3a semicolon 3b less 3c equal 3d greater 3e question 3f at 40
bracketleft 5b backslash 5c bracketright 5d asciicircum 5e underscore 5f grave 60 braceleft 7b bar 7c braceright 7d
asciitilde 7e exclamdown a1 cent a2 sterling a3 currency a4 yen a5 brokenbar a6 section a7 dieresis a8 copyright a9
ordfeminine aa guillemotleft ab logicalnot ac registered ae macron af degree b0 plusminus b1 twosuperior b2
threesuperior b3 acute b4 mu b5 paragraph b6 periodcentered b7 cedilla b8 onesuperior b9 ordmasculine ba
guillemotright bb onequarter bc onehalf bd threequarters be questiondown bf Agrave c0 Aacute c1 Acircumflex c2
Atilde c3 Adieresis c4 Aring c5 AE c6 Ccedilla c7 Egrave c8 Eacute c9 Ecircumflex ca Edieresis cb Igrave cc Iacute cd
Icircumflex ce Idieresis cf Eth d0 Ntilde d1 Ograve d2 Oacute d3 Ocircumflex d4 Otilde d5 Odieresis d6 multiply d7
Oslash d8 Ugrave d9 Uacute da Ucircumflex db Udieresis dc Yacute dd Thorn de germandbls df agrave e0 aacute e1
acircumflex e2 atilde e3 adieresis e4 aring e5 ae e6 ccedilla e7 egrave e8 eacute e9 ecircumflex ea edieresis eb
igrave ec iacute ed icircumflex ee idieresis ef eth f0 ntilde f1 ograve f2 oacute f3 ocircumflex f4 otilde f5
odieresis f6 divide f7 oslash f8 ugrave f9 uacute fa ucircumflex fb udieresis fc yacute fd thorn fe ydieresis ff
dotlessi 131 Lslash 141 lslash 142 OE 152 oe 153 Scaron 160 scaron 161 Ydieresis 178 Zcaron 17d zcaron 17e florin 192
circumflex 2c6 caron 2c7 breve 2d8 dotaccent 2d9 ring 2da ogonek 2db tilde 2dc hungarumlaut 2dd endash 2013
emdash 2014 quoteleft 2018 quoteright 2019 quotesinglbase 201a quotedblleft 201c quotedblright 201d quotedblbase 201e
dagger 2020 daggerdbl 2021 bullet 2022 ellipsis 2026 perthousand 2030 guilsinglleft 2039 guilsinglright 203a
fraction 2044 Euro 20ac trademark 2122 minus 2212 fi fb01 fl fb02 nbspace a0 sfthyphen ad`;

const glyphTable = new Map<string, string>();
{
  const parts = GLYPH_NAMES.split(/\s+/);
  for (let i = 0; i + 1 < parts.length; i += 2) glyphTable.set(parts[i]!, String.fromCodePoint(parseInt(parts[i + 1]!, 16)));
}

/** Unicode for a glyph name: the table above, "uniXXXX…", "uXXXX[XX]", one-letter names, "f_f_i" ligatures. */
export function glyphToUnicode(glyph: string): string | undefined {
  const known = glyphTable.get(glyph);
  if (known !== undefined) return known;
  let m = /^uni((?:[0-9A-F]{4})+)$/.exec(glyph);
  if (m) {
    const hex = m[1]!;
    let s = '';
    for (let i = 0; i < hex.length; i += 4) s += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
    return s;
  }
  m = /^u([0-9A-F]{4,6})$/.exec(glyph);
  if (m) {
    const cp = parseInt(m[1]!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
  }
  if (/^[A-Za-z]$/.test(glyph)) return glyph;
  const dot = glyph.indexOf('.'); // "a.sc", "one.oldstyle": variants of the base glyph
  if (dot > 0) return glyphToUnicode(glyph.slice(0, dot));
  if (glyph.includes('_')) {
    const parts = glyph.split('_').map(glyphToUnicode);
    return parts.every((p) => p !== undefined) ? parts.join('') : undefined;
  }
  return undefined;
}

export type BaseEncoding = 'WinAnsiEncoding' | 'MacRomanEncoding' | 'StandardEncoding';

function decoded(label: string): string[] {
  const d = new TextDecoder(label);
  return Array.from({ length: 256 }, (_, i) => (i < 0x20 ? '' : d.decode(Uint8Array.of(i))));
}

/** StandardEncoding (Type 1 fonts' built-in default) differs from ASCII in two codes and above 0x7F. */
const STANDARD_HIGH = `27 quoteright 60 quoteleft a1 exclamdown a2 cent a3 sterling a4 fraction a5 yen a6 florin
a7 section a8 currency a9 quotesingle aa quotedblleft ab guillemotleft ac guilsinglleft ad guilsinglright ae fi af fl
b1 endash b2 dagger b3 daggerdbl b4 periodcentered b6 paragraph b7 bullet b8 quotesinglbase b9 quotedblbase
ba quotedblright bb guillemotright bc ellipsis bd perthousand bf questiondown c1 grave c2 acute c3 circumflex c4 tilde
c5 macron c6 breve c7 dotaccent c8 dieresis ca ring cb cedilla cd hungarumlaut ce ogonek cf caron d0 emdash e1 AE
e3 ordfeminine e8 Lslash e9 Oslash ea OE eb ordmasculine f1 ae f5 dotlessi f8 lslash f9 oslash fa oe fb germandbls`;

const WINANSI_HIGH = `80 Euro 82 quotesinglbase 83 florin 84 quotedblbase 85 ellipsis 86 dagger 87 daggerdbl
88 circumflex 89 perthousand 8a Scaron 8b guilsinglleft 8c OE 8e Zcaron 91 quoteleft 92 quoteright 93 quotedblleft
94 quotedblright 95 bullet 96 endash 97 emdash 98 tilde 99 trademark 9a scaron 9b guilsinglright 9c oe 9e zcaron
9f Ydieresis`;

const encodings = new Map<BaseEncoding, string[]>();

/** The 256 characters of a base encoding ('' for unused codes). */
export function baseEncoding(name: BaseEncoding): string[] {
  let table = encodings.get(name);
  if (table) return table;
  if (name === 'WinAnsiEncoding') {
    // Latin-1 plus the Windows-1252 additions (Node's TextDecoder gives C1 controls for those).
    table = Array.from({ length: 256 }, (_, i) => (i < 0x20 || (i >= 0x7f && i < 0xa0) ? '' : String.fromCharCode(i)));
    const parts = WINANSI_HIGH.split(/\s+/);
    for (let i = 0; i + 1 < parts.length; i += 2) table[parseInt(parts[i]!, 16)] = glyphToUnicode(parts[i + 1]!) ?? '';
    table[0xa0] = ' '; // the PDF spec's WinAnsi has space and hyphen here, not NBSP and soft hyphen
    table[0xad] = '-';
  } else if (name === 'MacRomanEncoding') {
    table = decoded('macintosh');
    table[0x7f] = '';
  } else {
    table = Array.from({ length: 256 }, (_, i) => (i >= 0x20 && i < 0x7f ? String.fromCharCode(i) : ''));
    const parts = STANDARD_HIGH.split(/\s+/);
    for (let i = 0; i + 1 < parts.length; i += 2) table[parseInt(parts[i]!, 16)] = glyphToUnicode(parts[i + 1]!) ?? '';
  }
  encodings.set(name, table);
  return table;
}

/** Metrics of a standard 14 font: ascent/descent and widths (1/1000 em) of the WinAnsi codes 32–255. */
export interface StandardFontMetrics {
  ascent: number;
  descent: number;
  /** Width of a character, or undefined when the font has no glyph for it. */
  width(char: string): number | undefined;
}

/**
 * Widths of WinAnsi codes 32–255 in base 36, from Adobe's Core 14 AFM files (via
 * @pdf-lib/standard-fonts, generated once). Oblique faces have their upright face's widths.
 */
const CORE14: Record<string, { ascent: number; descent: number; widths: string }> = {
  'Helvetica': { ascent: 718, descent: -207, widths: '7q,7q,9v,fg,fg,op,ij,5b,99,99,at,g8,7q,99,7q,7q,fg,fg,fg,fg,fg,fg,fg,fg,fg,fg,7q,7q,g8,g8,g8,fg,s7,ij,ij,k2,k2,ij,gz,lm,k2,7q,dw,ij,fg,n5,k2,lm,ij,lm,k2,ij,gz,k2,ij,q8,ij,ij,gz,7q,7q,7q,d1,fg,99,fg,fg,dw,fg,fg,7q,fg,fg,66,66,dw,66,n5,fg,fg,fg,fg,99,dw,7q,fg,dw,k2,dw,dw,dw,9a,78,9a,g8,0,fg,0,66,fg,99,rs,fg,fg,99,rs,ij,99,rs,0,gz,0,0,66,66,99,99,9q,fg,rs,99,rs,dw,99,q8,0,dw,dw,7q,99,fg,fg,fg,fg,78,fg,99,kh,aa,fg,g8,99,kh,99,b4,g8,99,99,99,fg,ex,7q,99,99,a5,fg,n6,n6,n6,gz,ij,ij,ij,ij,ij,ij,rs,k2,ij,ij,ij,ij,7q,7q,7q,7q,k2,k2,lm,lm,lm,lm,lm,g8,lm,k2,k2,k2,k2,ij,ij,gz,fg,fg,fg,fg,fg,fg,op,dw,fg,fg,fg,fg,7q,7q,7q,7q,fg,fg,fg,fg,fg,fg,fg,g8,gz,fg,fg,fg,fg,dw,fg,dw' },
  'Helvetica-Bold': { ascent: 718, descent: -207, widths: '7q,99,d6,fg,fg,op,k2,6m,99,99,at,g8,7q,99,7q,7q,fg,fg,fg,fg,fg,fg,fg,fg,fg,fg,99,99,g8,g8,g8,gz,r3,k2,k2,k2,k2,ij,gz,lm,k2,7q,fg,k2,gz,n5,k2,lm,ij,lm,k2,ij,gz,k2,ij,q8,ij,ij,gz,99,7q,99,g8,fg,99,fg,gz,fg,gz,fg,99,gz,gz,7q,7q,fg,7q,op,gz,gz,gz,gz,at,fg,99,gz,fg,lm,fg,fg,dw,at,7s,at,g8,0,fg,0,7q,fg,dw,rs,fg,fg,99,rs,ij,99,rs,0,gz,0,0,7q,7q,dw,dw,9q,fg,rs,99,rs,fg,99,q8,0,dw,fg,7q,99,fg,fg,fg,fg,7s,fg,99,kh,aa,fg,g8,99,kh,99,b4,g8,99,99,99,gz,fg,7q,99,99,a5,fg,n6,n6,n6,gz,k2,k2,k2,k2,k2,k2,rs,k2,ij,ij,ij,ij,7q,7q,7q,7q,k2,k2,lm,lm,lm,lm,lm,g8,lm,k2,k2,k2,k2,ij,ij,gz,fg,fg,fg,fg,fg,fg,op,fg,fg,fg,fg,fg,7q,7q,7q,7q,gz,gz,gz,gz,gz,gz,gz,g8,gz,gz,gz,gz,gz,fg,gz,fg' },
  'Times-Roman': { ascent: 683, descent: -217, widths: '6y,99,bc,dw,dw,n5,lm,50,99,99,dw,fo,6y,99,6y,7q,dw,dw,dw,dw,dw,dw,dw,dw,dw,dw,7q,7q,fo,fo,fo,cc,pl,k2,ij,ij,k2,gz,fg,k2,k2,99,at,k2,gz,op,k2,k2,fg,k2,ij,fg,gz,k2,k2,q8,k2,k2,gz,99,7q,99,d1,dw,99,cc,dw,cc,dw,cc,99,dw,dw,7q,7q,dw,7q,lm,dw,dw,dw,dw,99,at,7q,dw,dw,k2,dw,dw,cc,dc,5k,dc,f1,0,dw,0,99,dw,cc,rs,dw,dw,99,rs,fg,99,op,0,gz,0,0,99,99,cc,cc,9q,dw,rs,99,r8,at,99,k2,0,cc,dw,6y,99,dw,dw,dw,dw,5k,dw,99,l4,7o,dw,fo,99,l4,99,b4,fo,8c,8c,99,dw,cl,6y,99,8c,8m,dw,ku,ku,ku,cc,k2,k2,k2,k2,k2,k2,op,ij,gz,gz,gz,gz,99,99,99,99,k2,k2,k2,k2,k2,k2,k2,fo,k2,k2,k2,k2,k2,k2,fg,dw,cc,cc,cc,cc,cc,cc,ij,cc,cc,cc,cc,cc,7q,7q,7q,7q,dw,dw,dw,dw,dw,dw,dw,fo,dw,dw,dw,dw,dw,dw,dw,dw' },
  'Times-Bold': { ascent: 683, descent: -217, widths: '6y,99,ff,dw,dw,rs,n5,7q,99,99,dw,fu,6y,99,6y,7q,dw,dw,dw,dw,dw,dw,dw,dw,dw,dw,99,99,fu,fu,fu,dw,pu,k2,ij,k2,k2,ij,gz,lm,lm,at,dw,lm,ij,q8,k2,lm,gz,lm,k2,fg,ij,k2,k2,rs,k2,k2,ij,99,7q,99,g5,dw,99,dw,fg,cc,fg,cc,99,dw,fg,7q,99,fg,7q,n5,fg,dw,fg,fg,cc,at,99,fg,dw,k2,dw,dw,cc,ay,64,ay,eg,0,dw,0,99,dw,dw,rs,dw,dw,99,rs,fg,99,rs,0,ij,0,0,99,99,dw,dw,9q,dw,rs,99,rs,at,99,k2,0,cc,dw,6y,99,dw,dw,dw,dw,64,dw,99,kr,8c,dw,fu,99,kr,99,b4,fu,8c,8c,99,fg,f0,6y,99,8c,96,dw,ku,ku,ku,dw,k2,k2,k2,k2,k2,k2,rs,k2,ij,ij,ij,ij,at,at,at,at,k2,k2,lm,lm,lm,lm,lm,fu,lm,k2,k2,k2,k2,k2,gz,fg,dw,dw,dw,dw,dw,dw,k2,cc,cc,cc,cc,cc,7q,7q,7q,7q,dw,fg,dw,dw,dw,dw,dw,fu,dw,fg,fg,fg,fg,dw,fg,dw' },
  'Times-Italic': { ascent: 683, descent: -217, widths: '6y,99,bo,dw,dw,n5,lm,5y,99,99,dw,ir,6y,99,6y,7q,dw,dw,dw,dw,dw,dw,dw,dw,dw,dw,99,99,ir,ir,ir,dw,pk,gz,gz,ij,k2,gz,gz,k2,k2,99,cc,ij,fg,n5,ij,k2,gz,k2,gz,dw,fg,k2,gz,n5,gz,fg,fg,at,7q,at,bq,dw,99,dw,dw,cc,dw,cc,7q,dw,dw,7q,7q,cc,7q,k2,dw,dw,dw,dw,at,at,7q,dw,cc,ij,cc,cc,at,b4,7n,b4,f1,0,dw,0,99,dw,fg,op,dw,dw,99,rs,dw,99,q8,0,fg,0,0,99,99,fg,fg,9q,dw,op,99,r8,at,99,ij,0,at,cc,6y,at,dw,dw,dw,dw,7n,dw,99,l4,7o,dw,ir,99,l4,99,b4,ir,8c,8c,99,dw,ej,6y,99,8c,8m,dw,ku,ku,ku,dw,gz,gz,gz,gz,gz,gz,op,ij,gz,gz,gz,gz,99,99,99,99,k2,ij,k2,k2,k2,k2,k2,ir,k2,k2,k2,k2,k2,fg,gz,dw,dw,dw,dw,dw,dw,dw,ij,cc,cc,cc,cc,cc,7q,7q,7q,7q,dw,dw,dw,dw,dw,dw,dw,ir,dw,dw,dw,dw,dw,cc,dw,cc' },
  'Times-BoldItalic': { ascent: 683, descent: -217, widths: '6y,at,ff,dw,dw,n5,lm,7q,99,99,dw,fu,6y,99,6y,7q,dw,dw,dw,dw,dw,dw,dw,dw,dw,dw,99,99,fu,fu,fu,dw,n4,ij,ij,ij,k2,ij,ij,k2,lm,at,dw,ij,gz,op,k2,k2,gz,k2,ij,fg,gz,k2,ij,op,ij,gz,gz,99,7q,99,fu,dw,99,dw,dw,cc,dw,cc,99,dw,fg,7q,7q,dw,7q,lm,fg,dw,dw,dw,at,at,7q,fg,cc,ij,dw,cc,at,9o,64,9o,fu,0,dw,0,99,dw,dw,rs,dw,dw,99,rs,fg,99,q8,0,gz,0,0,99,99,dw,dw,9q,dw,rs,99,rs,at,99,k2,0,at,cc,6y,at,dw,dw,dw,dw,64,dw,99,kr,7e,dw,gu,99,kr,99,b4,fu,8c,8c,99,g0,dw,6y,99,8c,8c,dw,ku,ku,ku,dw,ij,ij,ij,ij,ij,ij,q8,ij,ij,ij,ij,ij,at,at,at,at,k2,k2,k2,k2,k2,k2,k2,fu,k2,k2,k2,k2,k2,gz,gz,dw,dw,dw,dw,dw,dw,dw,k2,cc,cc,cc,cc,cc,7q,7q,7q,7q,dw,fg,dw,dw,dw,dw,dw,fu,dw,fg,fg,fg,fg,cc,dw,cc' },
};

const CORE14_ALIASES: Record<string, string> = {
  'Helvetica-Oblique': 'Helvetica',
  'Helvetica-BoldOblique': 'Helvetica-Bold',
  Arial: 'Helvetica',
  'Arial,Bold': 'Helvetica-Bold',
  'Arial,Italic': 'Helvetica',
  'Arial,BoldItalic': 'Helvetica-Bold',
  TimesNewRoman: 'Times-Roman',
  'TimesNewRoman,Bold': 'Times-Bold',
  'TimesNewRoman,Italic': 'Times-Italic',
  'TimesNewRoman,BoldItalic': 'Times-BoldItalic',
};

const metricsCache = new Map<string, StandardFontMetrics>();

/** Metrics for a standard 14 font name (or a common alias), undefined for any other font. */
export function standardFontMetrics(baseFont: string): StandardFontMetrics | undefined {
  const cached = metricsCache.get(baseFont);
  if (cached) return cached;
  let metrics: StandardFontMetrics | undefined;
  if (/^Courier(-Bold|-Oblique|-BoldOblique)?$|^CourierNew/.test(baseFont)) {
    metrics = { ascent: 629, descent: -157, width: () => 600 };
  } else if (baseFont === 'Symbol' || baseFont === 'ZapfDingbats') {
    metrics = undefined; // their glyphs are not Latin text; callers fall back to a default width
  } else {
    const entry = CORE14[CORE14_ALIASES[baseFont] ?? baseFont];
    if (entry) {
      const widths = entry.widths.split(',').map((w) => parseInt(w, 36));
      const byChar = new Map<string, number>();
      baseEncoding('WinAnsiEncoding').forEach((ch, code) => {
        const w = widths[code - 32];
        if (ch && w && !byChar.has(ch)) byChar.set(ch, w);
      });
      metrics = { ascent: entry.ascent, descent: entry.descent, width: (ch) => byChar.get(ch) };
    }
  }
  if (metrics) metricsCache.set(baseFont, metrics);
  return metrics;
}
