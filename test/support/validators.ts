/**
 * Checks of signed PDFs with tools OneSeal did not write: pdfsig (poppler + NSS) with a database
 * trusting a given root, qpdf --check, openssl cms / openssl ts, pdftotext -bbox and pdftoppm.
 * Signatures are found with a byte-level scan of /ByteRange (not src/pdf/reader), so a reader bug
 * cannot hide a signature from the checks.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { expect } from 'vitest';
import { derToPem } from '../../src/pki/der.js';
import { gapBytes, pdfsigBlocks, run, trimDer, writeTemp } from '../signing-fixtures.js';
import { pngRendering, type Rendering } from '../stamp-support.js';
import { qpdfCheck as qpdfCheckOf } from './pdfs.js';

// One import place for the stamp acceptance suites; the helpers stay where their first users are.
export { qpdfCheckOf as qpdfCheck };
export { isRed, redFraction, render, type Rendering } from '../stamp-support.js';

/** A scratch directory with the root certificate and an NSS database that trusts it (for pdfsig). */
export interface TrustStore {
  dir: string;
  rootPem: string;
  nssDir: string;
  dispose(): void;
}

export function trustStore(rootPem: string): TrustStore {
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-validate-'));
  const nssDir = join(dir, 'nss');
  mkdirSync(nssDir);
  execFileSync('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password']);
  execFileSync('certutil', ['-A', '-d', `sql:${nssDir}`, '-n', 'root', '-t', 'CT,C,C', '-i', rootPem]);
  return { dir, rootPem, nssDir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

let scratch = 0;
const tempName = (stem: string): string => `${stem}-${process.pid}-${++scratch}`;

/** One signature as its bytes say: the ByteRange and the CMS (or time-stamp token) in the gap. */
export interface FoundSignature {
  byteRange: [number, number, number, number];
  /** The DER in /Contents, zero padding removed. */
  cms: Uint8Array;
  /** The bytes the signature covers (the two ranges joined). */
  signed: Buffer;
  /** Whether this is a document time-stamp (/SubFilter /ETSI.RFC3161). */
  docTimestamp: boolean;
}

/** Every /ByteRange in the file, oldest first, checked to cover all but its own /Contents <hex>. */
export function signaturesIn(pdf: Uint8Array): FoundSignature[] {
  const text = Buffer.from(pdf).toString('latin1');
  const seen = new Set<string>();
  const found: FoundSignature[] = [];
  for (const m of text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)) {
    const br = m.slice(1, 5).map(Number) as [number, number, number, number];
    if (seen.has(br.join(' '))) continue;
    seen.add(br.join(' '));
    const [a, b, c, d] = br;
    if (a !== 0 || text[b] !== '<' || text[c - 1] !== '>' || c + d > pdf.length) {
      throw new Error(`ByteRange [${br.join(' ')}] does not frame a /Contents hex string`);
    }
    // The signature dictionary holding this ByteRange: from its "<<" up to the ByteRange's revision end.
    const dictStart = text.lastIndexOf('obj', m.index);
    const dict = text.slice(dictStart, text.indexOf('endobj', m.index));
    found.push({
      byteRange: br,
      cms: trimDer(gapBytes(pdf, br)),
      signed: Buffer.concat([pdf.subarray(a, a + b), pdf.subarray(c, c + d)]),
      docTimestamp: /\/SubFilter\s*\/ETSI\.RFC3161/.test(dict),
    });
  }
  return found.sort((x, y) => x.byteRange[2] - y.byteRange[2]);
}

/**
 * pdfsig's report (UTF-8) with the trust store's NSS database, split per signature ("Signature #n:").
 * Its online OCSP check stays on: "Certificate is Trusted." then also means the responder in the
 * certificate's AIA answered "good".
 */
export async function pdfsig(trust: TrustStore, pdf: Uint8Array): Promise<{ out: string; blocks: string[] }> {
  const file = writeTemp(trust.dir, `${tempName('sig')}.pdf`, pdf);
  // Asynchronous: the OCSP responder pdfsig asks may be served by this very process.
  const out = await new Promise<string>((resolve) => {
    execFile('pdfsig', ['-nssdir', `sql:${trust.nssDir}`, file], { encoding: 'utf8' }, (_e, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
  return { out, blocks: pdfsigBlocks(out) };
}

/** `openssl cms -verify` of a signature over its byte ranges, chain to the trust store's root. */
export function opensslCmsVerify(trust: TrustStore, sig: FoundSignature): { status: number; out: string } {
  const stem = tempName('cms');
  const p7s = writeTemp(trust.dir, `${stem}.p7s`, sig.cms);
  const content = writeTemp(trust.dir, `${stem}.bin`, sig.signed);
  return run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', p7s, '-content', content, '-CAfile', trust.rootPem, '-purpose', 'any', '-out', '/dev/null']);
}

function signedData(cms: Uint8Array): pkijs.SignedData {
  return new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(cms).content });
}

/** The signer's signature value (what a signature time-stamp's imprint must hash). */
export function signatureValue(cms: Uint8Array): Buffer {
  return Buffer.from(signedData(cms).signerInfos[0]!.signature.valueBlock.valueHexView);
}

/** The RFC 3161 signature-time-stamp token in the CMS's unsigned attributes, if any. */
export function signatureTimestamp(cms: Uint8Array): Buffer | undefined {
  const attr = signedData(cms).signerInfos[0]!.unsignedAttrs?.attributes.find((a) => a.type === '1.2.840.113549.1.9.16.2.14');
  return attr ? Buffer.from(attr.values[0]!.toBER()) : undefined;
}

/** The message imprint (hex) a time-stamp token carries. */
export function timestampImprint(token: Uint8Array): string {
  const econtent = signedData(token).encapContentInfo.eContent as asn1js.OctetString;
  return Buffer.from(pkijs.TSTInfo.fromBER(econtent.getValue()).messageImprint.hashedMessage.getValue()).toString('hex');
}

/**
 * `openssl ts -verify` of a token against a SHA-256 digest (hex): imprint, TSA signature and the
 * TSA certificate's chain to the trust store's root (`tsaCert` DER given as -untrusted).
 */
export function opensslTsVerify(trust: TrustStore, token: Uint8Array, digestHex: string, tsaCert: Uint8Array): { status: number; out: string } {
  const stem = tempName('ts');
  const tokenFile = writeTemp(trust.dir, `${stem}.tst`, token);
  const tsaPem = writeTemp(trust.dir, `${stem}-tsa.pem`, derToPem(tsaCert, 'CERTIFICATE'));
  return run('openssl', ['ts', '-verify', '-digest', digestHex, '-sha256', '-in', tokenFile, '-token_in', '-CAfile', trust.rootPem, '-untrusted', tsaPem]);
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A word's box as pdftotext -bbox gives it, converted to points from the page's lower-left corner. */
export interface WordBox {
  page: number;
  text: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Words (pdftotext -bbox, poppler's text extraction) whose text contains `needle`. */
export function pdftotextWords(pdf: Uint8Array, needle: string): WordBox[] {
  const file = writeTemp(tmpdir(), `${tempName('oneseal-bbox')}.pdf`, pdf);
  try {
    const html = execFileSync('pdftotext', ['-bbox', file, '-'], { encoding: 'utf8' });
    const words: WordBox[] = [];
    const pages = html.split(/<page /).slice(1);
    pages.forEach((pageHtml, i) => {
      const pageHeight = Number(/height="([\d.]+)"/.exec(pageHtml)![1]);
      for (const w of pageHtml.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)) {
        if (!w[5]!.includes(needle)) continue;
        const [x0, y0, x1, y1] = w.slice(1, 5).map(Number) as [number, number, number, number];
        words.push({ page: i + 1, text: w[5]!, x: x0, y: pageHeight - y1, width: x1 - x0, height: y1 - y0 });
      }
    });
    return words;
  } finally {
    rmSync(file, { force: true });
  }
}

export interface SignedCheck {
  /** Signatures the stamp(s) added, oldest first, each with its pdfsig block. */
  added: { sig: FoundSignature; pdfsig: string }[];
  /** Signatures that were in the input already. */
  earlier: { sig: FoundSignature; pdfsig: string }[];
  pdfsig: string;
}

/** The signer's distinguished name in a pdfsig block. */
const signerOf = (block: string): string => /Signer full Distinguished Name: (.*)/.exec(block)?.[1] ?? '';

/** pdfsig's "Signed Ranges" line for a ByteRange. */
const rangesLine = ([a, b, c, d]: number[]): string => `Signed Ranges: [${a} - ${a! + b!}], [${c} - ${c! + d!}]`;

/**
 * What every stamped document must satisfy, by tools other than OneSeal: the input is a byte prefix
 * of the output; qpdf --check finds nothing; pdfsig says each added signature is valid with a
 * certificate trusted through the root (a document time-stamp only valid) and each earlier one still
 * valid; openssl cms accepts each added signature over its byte ranges, the chain ending at the root;
 * each added signature's
 * time-stamp (when `timestamped`) hashes its signature value and verifies against the TSA
 * certificate; each added document time-stamp verifies over its byte ranges.
 */
export async function expectSigned(
  trust: TrustStore,
  before: Uint8Array,
  after: Uint8Array,
  o: { added: number; tsaCert: Uint8Array; timestamped: boolean },
): Promise<SignedCheck> {
  expect(Buffer.from(after.subarray(0, before.length)).equals(Buffer.from(before)), 'the input is a byte prefix of the output').toBe(true);
  const q = qpdfCheckOf(after);
  expect(q.output).toContain('No syntax or stream encoding errors');
  expect(q.status, q.output).toBe(0);

  const earlierRanges = new Set(signaturesIn(before).map((s) => s.byteRange.join(' ')));
  const all = signaturesIn(after);
  const report = await pdfsig(trust, after);
  expect(report.blocks.length, report.out).toBe(all.length);
  const withBlock = all.map((sig) => {
    const block = report.blocks.find((b) => b.includes(rangesLine(sig.byteRange)));
    expect(block, `pdfsig lists the signature with ${rangesLine(sig.byteRange)}:\n${report.out}`).toBeDefined();
    return { sig, pdfsig: block! };
  });
  const earlier = withBlock.filter((s) => earlierRanges.has(s.sig.byteRange.join(' ')));
  const added = withBlock.filter((s) => !earlierRanges.has(s.sig.byteRange.join(' ')));
  expect(added).toHaveLength(o.added);
  for (const e of earlier) expect(e.pdfsig).toContain('Signature is Valid.');
  const signers = new Set(earlier.map((e) => signerOf(e.pdfsig)));
  for (const a of added) {
    if (a.sig.docTimestamp) {
      // poppler 22.12 lists a document time-stamp but cannot validate one ("Unimplemented Feature"): openssl does.
      const ts = opensslTsVerify(trust, a.sig.cms, sha256Hex(a.sig.signed), o.tsaCert);
      expect(ts.out, 'document time-stamp').toContain('Verification: OK');
      continue;
    }
    expect(a.pdfsig).toContain('Signature Validation: Signature is Valid.');
    const signer = signerOf(a.pdfsig);
    if (signers.has(signer)) {
      // poppler 22.12 + NSS cannot check the certificate of a second signature by the same certificate
      // in one file (also for CMS made by openssl; see test/signing-pdf.test.ts): openssl below does.
      expect(a.pdfsig).toMatch(/Certificate Validation: (Certificate is Trusted\.|Unknown issue with Certificate or corrupted data\.)/);
    } else {
      expect(a.pdfsig).toContain('Certificate Validation: Certificate is Trusted.');
    }
    signers.add(signer);
    const cms = opensslCmsVerify(trust, a.sig);
    expect(cms.out).toContain('Verification successful');
    const token = signatureTimestamp(a.sig.cms);
    if (!o.timestamped) {
      expect(token).toBeUndefined();
      continue;
    }
    expect(token, 'a signature time-stamp').toBeDefined();
    const imprint = sha256Hex(signatureValue(a.sig.cms));
    expect(timestampImprint(token!)).toBe(imprint);
    expect(opensslTsVerify(trust, token!, imprint, o.tsaCert).out).toContain('Verification: OK');
  }
  return { added, earlier, pdfsig: report.out };
}

/**
 * Every page rendered by one pdftoppm run (72 dpi, crop box), cut to the part right of `fromX`
 * points: cheap enough for the right edges of a long document. `at(x, y)` takes page coordinates.
 */
export function renderRightOfX(pdf: Uint8Array, fromX: number): Rendering[] {
  const dir = mkdtempSync(join(tmpdir(), 'oneseal-strips-'));
  try {
    const file = writeTemp(dir, 'in.pdf', pdf);
    execFileSync('pdftoppm', ['-r', '72', '-png', '-cropbox', '-x', String(fromX), '-y', '0', '-W', '10000', '-H', '10000', file, join(dir, 'p')], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    return files.map((f) => pngRendering(readFileSync(join(dir, f)), fromX));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
