/**
 * Documents prepared for shadow and sneaky-appearance attacks, and the two independent ways the
 * tests sign them:
 *
 * - `buildVictim`: a contract page drawn by @cantoo/pdf-lib (embedded CJK font, a drawn form
 *   XObject, text fields, two fields stacked at one spot), then a preparation revision written with
 *   OneSeal's IncrementalWriter: a FreeText annotation, an empty signature field "Approval", and the
 *   hidden material an attacker plants before signing — an unused content stream, a complete shadow
 *   catalog, and a stream whose data holds a ready-made body for the page's content object.
 *   `share` makes the empty field's and the "amount" field's appearance streams used a second time
 *   (from the catalog, drawn on the page), which is what sneaky updates exploit.
 * - OneSeal signs incrementally through the HSM (signPdf); the independent signer is the common
 *   Node way — pdf-lib rewrites the file with a placeholder, @signpdf + node-forge make an
 *   adbe.pkcs7.detached CMS — with its own RSA CA, which the tests trust.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PDFDocument as CantooDocument, StandardFonts, concatTransformationMatrix, drawObject, popGraphicsState, pushGraphicsState } from '@cantoo/pdf-lib';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import forge from 'node-forge';
import { pdfLibFontkit } from '../src/licences/fontkit-adapter.js';
import { DEFAULT_CJK_FONT } from '../src/pdf/font.js';
import { PdfDict, PdfRef, PdfStream, PdfString, name, type PdfValue } from '../src/pdf/objects.js';
import { PdfReader } from '../src/pdf/reader.js';
import { IncrementalWriter } from '../src/pdf/writer.js';
import type { RevocationLookup } from '../src/verify/revocation.js';

export type Share = 'none' | 'catalog' | 'page';

export interface VictimOptions {
  /**
   * Where the appearance streams of "Approval" and "amount" are used a second time. (A trailer entry
   * does not survive signing — OneSeal and pdf-lib write their own trailers — so that variant of
   * pyHanko's is a scenario in verify-diff-rules.test.ts.)
   */
  share?: Share;
  /** "Approval"'s /AP is an indirect dictionary that the empty field "Witness" uses too. */
  sharedApDictionary?: boolean;
}

/** What an attacker planted; found again by these markers in the signed bytes. */
export const SHADOW_BODY_MARKER = '%%SHADOW-BODY%%';
export const HIDDEN_CONTENT = 'q 1 1 1 rg 60 520 480 260 re f 0 0 1 rg 72 700 200 40 re f Q';

const cjkBytes = readFileSync(DEFAULT_CJK_FONT);
/** The CommonJS pdf-lib that @signpdf/placeholder-pdf-lib requires: its objects must be the placeholder's classes. */
const { PDFDocument } = createRequire(import.meta.url)('pdf-lib') as typeof import('pdf-lib');

function stream(dict: Record<string, PdfValue>, data: string): PdfStream {
  return new PdfStream(new PdfDict(dict), Buffer.from(data, 'latin1'));
}

const formXObject = (w: number, h: number, ops: string): PdfStream => stream({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, w, h] }, ops);

/** The contract page: what a signer approves. */
async function drawContract(): Promise<Uint8Array> {
  const doc = await CantooDocument.create();
  doc.registerFontkit(pdfLibFontkit);
  const cjk = await doc.embedFont(cjkBytes, { subset: true });
  const helv = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([595, 842]);
  page.drawText('采购合同 Purchase contract', { x: 72, y: 770, size: 18, font: cjk });
  page.drawText('合同金额：100 元', { x: 72, y: 730, size: 14, font: cjk });
  page.drawText('Amount: 100 CNY, payable within 30 days.', { x: 72, y: 710, size: 12, font: helv });
  const ctx = doc.context;
  const logo = ctx.register(ctx.stream('0 0.4 0 rg 0 0 60 60 re f', { Type: 'XObject', Subtype: 'Form', BBox: [0, 0, 60, 60] }));
  const logoName = page.node.newXObject('Logo', logo);
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(1, 0, 0, 1, 470, 740), drawObject(logoName), popGraphicsState());
  const form = doc.getForm();
  const field = (n: string, value: string | undefined, x: number, y: number): void => {
    const f = form.createTextField(n);
    if (value !== undefined) f.setText(value);
    f.addToPage(page, { x, y, width: 150, height: 24, font: helv });
  };
  field('amount', '100', 72, 600);
  field('payee', undefined, 72, 560);
  // Two fields at one spot: "approved" is listed last, so it is drawn on top of "rejected".
  field('rejected', 'REJECTED', 330, 600);
  field('approved', 'APPROVED', 330, 600);
  form.updateFieldAppearances(helv);
  return doc.save({ useObjectStreams: false });
}

/** The object numbers of the page's content streams (pdf-lib writes an array of them). */
export function contentRefs(reader: PdfReader, page = 0): PdfRef[] {
  const c = reader.pages()[page]!.dict.get('Contents');
  const list = Array.isArray(c) ? c : [c];
  const refs = list.filter((x): x is PdfRef => x instanceof PdfRef);
  if (refs.length === 0) throw new Error('the page has no indirect content stream');
  return refs;
}

/** The widget of a field by name (fields made by pdf-lib have one kid widget; ours are merged). */
export function widgetOf(reader: PdfReader, fieldName: string): { ref: PdfRef; dict: PdfDict } {
  const acro = reader.resolve(reader.catalog().get('AcroForm')) as PdfDict;
  for (const f of reader.resolve(acro.get('Fields')) as PdfValue[]) {
    const d = reader.resolve(f);
    if (!(d instanceof PdfDict) || !(f instanceof PdfRef)) continue;
    const t = reader.resolve(d.get('T'));
    if (!(t instanceof PdfString) || t.decodeText() !== fieldName) continue;
    const kids = reader.resolve(d.get('Kids'));
    if (Array.isArray(kids) && kids[0] instanceof PdfRef) return { ref: kids[0], dict: reader.getObject(kids[0]) as PdfDict };
    return { ref: f, dict: d };
  }
  throw new Error(`the document has no field "${fieldName}"`);
}

export function fieldOf(reader: PdfReader, fieldName: string): { ref: PdfRef; dict: PdfDict } {
  const acro = reader.resolve(reader.catalog().get('AcroForm')) as PdfDict;
  for (const f of reader.resolve(acro.get('Fields')) as PdfValue[]) {
    const d = reader.resolve(f);
    const t = d instanceof PdfDict ? reader.resolve(d.get('T')) : undefined;
    if (f instanceof PdfRef && t instanceof PdfString && t.decodeText() === fieldName) return { ref: f, dict: d as PdfDict };
  }
  throw new Error(`the document has no field "${fieldName}"`);
}

/** The /N appearance stream a widget shows, as a reference (throws when it is direct or missing). */
export function normalAppearance(reader: PdfReader, widget: PdfDict): PdfRef {
  const ap = reader.resolve(widget.get('AP'));
  const n = ap instanceof PdfDict ? ap.get('N') : undefined;
  if (!(n instanceof PdfRef)) throw new Error('the widget has no indirect /N appearance stream');
  return n;
}

/** Adds the preparation revision: annotation, empty signature field(s), planted material, sharing. */
function prepare(contract: Uint8Array, o: VictimOptions): Buffer {
  const reader = PdfReader.load(contract);
  const w = new IncrementalWriter(reader);
  const page = reader.pages()[0]!;
  const pageDict = page.dict.clone();
  const catalogRef = reader.trailer.get('Root') as PdfRef;
  const catalog = reader.catalog().clone();
  const acroRef = catalog.get('AcroForm');
  const acro = (reader.resolve(acroRef) as PdfDict).clone();

  const note = w.add(
    new PdfDict({
      Type: name('Annot'),
      Subtype: name('FreeText'),
      Rect: [72, 460, 272, 490],
      F: 4,
      Contents: PdfString.text('Checked by legal'),
      DA: PdfString.literal('/Helv 10 Tf 0 g'),
      AP: new PdfDict({ N: w.add(formXObject(200, 30, '0.9 0.9 0.9 rg 0 0 200 30 re f')) }),
    }),
  );
  const approvalAp = w.add(formXObject(150, 60, '0.8 0 0 RG 2 w 1 1 148 58 re S'));
  const apDict = new PdfDict({ N: approvalAp });
  const apValue: PdfValue = o.sharedApDictionary ? w.add(apDict) : apDict;
  const emptyField = (t: string, rect: number[]): PdfRef =>
    w.add(new PdfDict({ Type: name('Annot'), Subtype: name('Widget'), FT: name('Sig'), T: PdfString.text(t), Rect: rect, F: 4, P: page.ref, AP: apValue }));
  const approval = emptyField('Approval', [380, 100, 530, 160]);
  const widgets = [approval];
  if (o.sharedApDictionary) widgets.push(emptyField('Witness', [200, 100, 350, 160]));

  // Planted before signing: content nothing uses, a shadow document, and a body for the content object.
  const hidden = w.add(stream({}, HIDDEN_CONTENT));
  const shadowPages = w.add(new PdfDict({ Type: name('Pages'), Count: 1, Kids: [] }));
  const shadowPage = w.add(new PdfDict({ Type: name('Page'), Parent: shadowPages, MediaBox: [0, 0, 595, 842], Contents: hidden }));
  w.update(shadowPages, new PdfDict({ Type: name('Pages'), Count: 1, Kids: [shadowPage] }));
  // The shadow catalog keeps the form, so viewers still list (and validate) the signature over the shadow pages.
  w.add(new PdfDict({ Type: name('Catalog'), Pages: shadowPages, AcroForm: acroRef instanceof PdfRef ? acroRef : acro, Shadow: true }));
  const content = contentRefs(reader).at(-1)!;
  const body = `${content.num} 0 obj\n<< /Length ${HIDDEN_CONTENT.length} >>\nstream\n${HIDDEN_CONTENT}\nendstream\nendobj\n`;
  w.add(stream({}, `${SHADOW_BODY_MARKER}\n${body}`));

  const amountAp = normalAppearance(reader, widgetOf(reader, 'amount').dict);
  const shared = o.sharedApDictionary ? (apValue as PdfRef) : approvalAp;
  if (o.share === 'catalog') catalog.set('FooBar', [shared, amountAp]);
  if (o.share === 'page') {
    const resources = (reader.resolve(pageDict.get('Resources')) as PdfDict).clone();
    const xobjects = (reader.resolve(resources.get('XObject')) as PdfDict | undefined)?.clone() ?? new PdfDict();
    xobjects.set('SharedA', approvalAp).set('SharedB', amountAp);
    resources.set('XObject', xobjects);
    pageDict.set('Resources', resources);
    const draw = w.add(stream({}, 'q 1 0 0 1 380 300 cm /SharedA Do Q q 1 0 0 1 72 300 cm /SharedB Do Q'));
    pageDict.set('Contents', [...contentRefs(reader), draw]);
  }
  pageDict.set('Annots', [...((reader.resolve(pageDict.get('Annots')) as PdfValue[] | undefined) ?? []), note, ...widgets]);
  w.update(page.ref, pageDict);
  acro.set('Fields', [...(reader.resolve(acro.get('Fields')) as PdfValue[]), ...widgets]);
  if (acroRef instanceof PdfRef) w.update(acroRef, acro);
  else catalog.set('AcroForm', acro);
  w.update(catalogRef, catalog);
  return Buffer.concat([contract, w.build().tail]);
}

export async function buildVictim(o: VictimOptions = {}): Promise<Buffer> {
  return prepare(await drawContract(), o);
}

/** The independent signer: its own RSA CA (node:crypto keys, node-forge certificates), trusted by the tests. */
export interface IndependentSigner {
  rootDer: Uint8Array;
  /** Its CA's records: every certificate it issued is good. */
  revocationLookup: RevocationLookup;
  sign(pdf: Uint8Array): Promise<Buffer>;
}

function forgeKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

export function makeIndependentSigner(commonName = 'Independent Contract Seal'): IndependentSigner {
  const now = Date.now();
  const rootKeys = forgeKeys();
  const leafKeys = forgeKeys();
  const rootName = [
    { name: 'countryName', value: 'CN' },
    { name: 'organizationName', value: 'Independent Test Signer' },
    { name: 'commonName', value: 'Independent Test Root CA' },
  ];
  const root = forge.pki.createCertificate();
  root.publicKey = rootKeys.publicKey;
  root.serialNumber = '0a';
  root.validity.notBefore = new Date(now - 3600_000);
  root.validity.notAfter = new Date(now + 3 * 365 * 24 * 3600_000);
  root.setSubject(rootName);
  root.setIssuer(rootName);
  root.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  root.sign(rootKeys.privateKey, forge.md.sha256.create());
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = leafKeys.publicKey;
  leaf.serialNumber = '0b';
  leaf.validity.notBefore = new Date(now - 3600_000);
  leaf.validity.notAfter = new Date(now + 2 * 365 * 24 * 3600_000);
  leaf.setSubject([
    { name: 'countryName', value: 'CN' },
    { name: 'organizationName', value: 'Independent Test Signer' },
    { name: 'commonName', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ]);
  leaf.setIssuer(rootName);
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
  ]);
  leaf.sign(rootKeys.privateKey, forge.md.sha256.create());
  const der = (c: forge.pki.Certificate): Buffer => Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes(), 'binary');
  const rootDer = der(root);
  const p12 = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(leafKeys.privateKey, [leaf, root], '', { algorithm: '3des' })).getBytes(), 'binary');
  const rootX509 = new X509Certificate(rootDer);
  const signpdf = new SignPdf();
  return {
    rootDer,
    revocationLookup: ({ der: certDer }) => (new X509Certificate(certDer).checkIssued(rootX509) ? { status: 'good' } : undefined),
    async sign(pdf) {
      const doc = await PDFDocument.load(pdf);
      pdflibAddPlaceholder({ pdfDoc: doc, reason: 'contract approval', contactInfo: '', name: 'Independent Contract Seal', location: '' });
      const withPlaceholder = Buffer.from(await doc.save({ useObjectStreams: false }));
      return signpdf.sign(withPlaceholder, new P12Signer(p12));
    },
  };
}
