/**
 * Signed licence QR codes checked offline (issue 17), end to end on a real stack: a licence is issued,
 * its PDF rendered at 150 and 100 dpi, the QR code read back with zbarimg, the signed trust and status
 * lists written with the CLI, the HTTP server stopped, and `oneseal verify-qr` run on the scanned text.
 * Then the attacker's moves: one character changed, one CBOR field changed (re-encoded with cbor-x, the
 * old signature kept), another kid, another licence's payload on this licence's URL, a different PDF;
 * a revocation and a supersession seen through a refreshed status list; key rotation and the revocation
 * of the QR key's certificate. A second decoder (cbor-x and Node's WebCrypto, no OneSeal code) verifies
 * the same payload against the trust list.
 */
import { execFileSync } from 'node:child_process';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Encoder, Tag } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSign1 } from '../src/cose/sign1.js';
import { requestChange } from '../src/access/two-person.js';
import { activeLicenceQrSigner } from '../src/pki/licence-qr.js';
import { changeLicence, issueLicence, licenceDeps, revokeLicence, type LicenceDeps } from '../src/licences/service.js';
import { decodeQrPayload, encodeQrPayload, parseQrText, qrText } from '../src/licences/qr-payload.js';
import { qrGeometry } from '../src/licences/qr.js';
import { getLicencePdf } from '../src/store/licences.js';
import { verifyQr } from '../src/offline/verify-qr.js';
import { readStatusList } from '../src/offline/status-list.js';
import { readTrustList } from '../src/offline/trust-list.js';
import { freshSample, registry } from './licences-samples.js';
import { addPerson, cliLogin, type TestPerson } from './support/people.js';
import { openStack, type Stack } from './support/stamp-stack.js';

/** Plain CBOR both ways: maps as objects, no record extension, no typed-array tags, shortest map heads. */
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const cborDecode = (bytes: Uint8Array): unknown => cbor.decode(bytes);
const cborEncode = (value: unknown): Buffer => cbor.encode(value);

let stack: Stack;
let deps: LicenceDeps;
let dir: string;
const file = (name: string): string => path.join(dir, name);
const rootPem = (): string => file('root.pem');
/** Scanned QR texts and PDFs by name. */
const qr: Record<string, string> = {};
const pdfs: Record<string, Buffer> = {};
const ids: Record<string, string> = {};
const issuedData: Record<string, Record<string, string>> = {};

/**
 * Renders page 1 with pdftoppm and reads it with zbarimg, which must find exactly one symbol, the QR code.
 * The whole page by default (no crop: a scanner sees the whole licence); `frame` renders only the bottom-left
 * quarter, where the QR code is, as a phone camera frames it.
 */
function scan(pdf: Buffer, dpi: number, name: string, frame = false): string {
  writeFileSync(file(`${name}.pdf`), pdf);
  const crop: string[] = [];
  if (frame) {
    const info = execFileSync('pdfinfo', [file(`${name}.pdf`)], { encoding: 'utf8' });
    const [w, h] = info.match(/Page size:\s+([\d.]+) x ([\d.]+)/)!.slice(1).map((v) => Math.round((Number(v) * dpi) / 72 / 2));
    crop.push('-x', '0', '-y', String(h), '-W', String(w), '-H', String(h));
  }
  execFileSync('pdftoppm', ['-r', String(dpi), '-png', '-singlefile', '-f', '1', '-l', '1', ...crop, file(`${name}.pdf`), file(`${name}-${dpi}`)]);
  // QR codes only: with every symbology on, zbar once read a second, 1-D "barcode" in a random sample's text.
  const symbols = execFileSync('zbarimg', ['-q', '-Sdisable', '-Sqrcode.enable', file(`${name}-${dpi}.png`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
  expect(symbols, `${name} at ${dpi} dpi`).toHaveLength(1);
  expect(symbols[0]!.startsWith('QR-Code:')).toBe(true);
  return symbols[0]!.slice('QR-Code:'.length);
}

async function issue(name: string, type: string, data: Record<string, string>): Promise<void> {
  const record = await issueLicence(deps, { type, data }, 'test');
  ids[name] = record.id;
  issuedData[name] = data;
  pdfs[name] = (await getLicencePdf(stack.services.store.db, record.id))!;
  qr[name] = scan(pdfs[name], 150, name);
}

async function writeLists(suffix: string): Promise<void> {
  expect((await stack.cli(['pki', 'trust-list', '-o', file(`trust${suffix}.json`)])).code).toBe(0);
  expect((await stack.cli(['pki', 'status-list', '-o', file(`status${suffix}.json`)])).code).toBe(0);
}

async function verifyCli(text: string, suffix = '', extra: string[] = []): Promise<{ code: number; json: Record<string, any> }> {
  const r = await stack.cli(['verify-qr', text, '--root', rootPem(), '--trust-list', file(`trust${suffix}.json`), '--status-list', file(`status${suffix}.json`), '--json', ...extra]);
  expect(r.err).toBe('');
  return { code: r.code, json: JSON.parse(r.out) };
}

/** The QR text with its COSE_Sign1 taken apart and rebuilt by cbor-x after `change`. */
function rebuilt(text: string, change: (parts: [Uint8Array, unknown, Uint8Array, Uint8Array]) => void): string {
  const hash = text.indexOf('#os1.');
  const message = cborDecode(Buffer.from(text.slice(hash + 5), 'base64url')) as Tag;
  const parts = message.value as [Uint8Array, unknown, Uint8Array, Uint8Array];
  change(parts);
  return `${text.slice(0, hash)}#os1.${Buffer.from(cborEncode(new Tag(parts, 18))).toString('base64url')}`;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'oneseal-qr-'));
  stack = await openStack();
  deps = licenceDeps(stack.services);
  writeFileSync(rootPem(), new X509Certificate(Buffer.from(stack.services.authority.root.certificate)).toString());
  await issue('business', 'business-licence', freshSample('business-licence'));
  await issue('food', 'food-business-licence', freshSample('food-business-licence'));
  await issue('person', 'residence-permit', freshSample('residence-permit', { validTo: '2099-01-09' }));
  await writeLists('');
}, 240_000);
afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the printed QR code', () => {
  it('scans from a whole-page 150 dpi render as the public page URL with a signed fragment, every type', () => {
    for (const name of ['business', 'food', 'person']) {
      expect(qr[name]!.startsWith(`${stack.env.ONESEAL_PUBLIC_URL}/v/${ids[name]}#os1.`), name).toBe(true);
    }
  });

  it('scans at 100 dpi, framed as a camera does, where the layout gives it 48 mm (modules of 1/50 inch, 2 whole pixels)', () => {
    // Whole 100 dpi pages read only most of the time (zbar loses the symbol among the text); 150 dpi pages always.
    expect(scan(pdfs.business!, 100, 'business', true)).toBe(qr.business);
    expect(scan(pdfs.food!, 100, 'food', true)).toBe(qr.food);
  });

  it('lays each type\'s symbol out with a quiet zone of at least 4 modules and whole-pixel modules of 2 or more at 150 dpi', () => {
    const types = { business: 'business-licence', food: 'food-business-licence', person: 'residence-permit' } as const;
    for (const [name, typeId] of Object.entries(types)) {
      const size = registry.get(typeId)!.layout.qr.size * (72 / 25.4);
      const { square, runs } = qrGeometry(qr[name]!, 31.7, 45.2, size, 595.3);
      const unit = Math.min(...runs.map((r) => r[3]));
      const [x0, y0] = [Math.min(...runs.map((r) => r[0])), Math.min(...runs.map((r) => r[1]))];
      const [x1, y1] = [Math.max(...runs.map((r) => r[0] + r[2])), Math.max(...runs.map((r) => r[1] + r[3]))];
      expect(Math.min(x0 - square[0], y0 - square[1], square[0] + square[2] - x1, square[1] + square[3] - y1), name).toBeGreaterThanOrEqual(4 * unit - 1e-6);
      const px150 = (unit * 150) / 72;
      expect(px150, name).toBeGreaterThanOrEqual(2);
      expect(Math.abs(px150 - Math.round(px150)), name).toBeLessThan(1e-6);
    }
  });

  it('carries the payload fields, the holder masked for a person, and the SHA-256 of the first revision', () => {
    const person = decodeQrPayload(parseSign1Payload(qr.person!));
    expect(person.holder).toMatch(/^.\*+.?$/u);
    expect(person.holderId).toMatch(/^\d{6}\*{8}\d{3}[\dX]$/);
    expect(person.validTo).toBe('2099-01-09');
    const business = decodeQrPayload(parseSign1Payload(qr.business!));
    expect(business.holderId).toBe(issuedData.business!.unifiedSocialCreditCode);
    expect(business.version).toBe(1);
    const pdf = pdfs.business!;
    const firstEof = pdf.indexOf('%%EOF') + 6;
    expect(Buffer.from(business.pdf).toString('hex')).toBe(createHash('sha256').update(pdf.subarray(0, firstEof)).digest('hex'));
    // The QR code, the signature and the validation data are later updates: three more %%EOF.
    expect(pdf.toString('latin1').match(/%%EOF/g)).toHaveLength(4);
  });
});

function parseSign1Payload(text: string): Uint8Array {
  const message = cborDecode(parseQrText(text).cose) as Tag;
  return (message.value as Uint8Array[])[2]!;
}

describe('oneseal verify-qr with the server stopped', () => {
  beforeAll(async () => {
    await new Promise((resolve) => stack.server.server.close(resolve));
    await expect(fetch(`${stack.env.ONESEAL_PUBLIC_URL}/health`)).rejects.toThrow();
  });

  it('says genuine and current (exit 0) for each scanned licence, with the PDF as issued', async () => {
    for (const name of ['business', 'food', 'person']) {
      const { code, json } = await verifyCli(qr[name]!, '', ['--pdf', file(`${name}.pdf`)]);
      expect(code, JSON.stringify(json)).toBe(0);
      expect(json.verdict).toBe('genuine');
      expect(json.pdfMatches).toBe(true);
      expect(json.payload.id).toBe(ids[name]);
    }
  });

  it('reads the QR code from an image itself (zbarimg)', async () => {
    const { code, json } = await verifyCli(file('food-150.png'));
    expect(code).toBe(0);
    expect(json.payload.id).toBe(ids.food);
  });

  it('rejects one changed character of the payload (exit 1)', async () => {
    const text = qr.business!;
    const at = text.indexOf('#os1.') + 120;
    const changed = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    expect((await verifyCli(changed)).code).toBe(1);
  });

  it('rejects a changed CBOR field under the old signature (exit 1)', async () => {
    const changed = rebuilt(qr.business!, (parts) => {
      const payload = cborDecode(parts[2]) as Record<string, unknown>;
      payload.holder = `${String(payload.holder)}分公司`;
      parts[2] = cborEncode(payload);
    });
    const { code, json } = await verifyCli(changed);
    expect(code).toBe(1);
    expect(json.reason).toMatch(/altered or forged|malformed/);
  });

  it('rejects a changed kid (exit 1)', async () => {
    const changed = rebuilt(qr.business!, (parts) => {
      // The protected header is {1: -7, 4: h'<8 bytes>'}: the kid is its last 8 bytes.
      const header = Buffer.from(parts[0]);
      expect(header.subarray(0, 5).toString('hex')).toBe('a201260448');
      header[header.length - 1] ^= 1;
      parts[0] = header;
    });
    const { code, json } = await verifyCli(changed);
    expect(code).toBe(1);
    expect(json.reason).toMatch(/does not know/);
  });

  it('rejects another licence’s payload on this licence’s URL (exit 1)', async () => {
    const swapped = `${qr.business!.slice(0, qr.business!.indexOf('#'))}${qr.food!.slice(qr.food!.indexOf('#'))}`;
    const { code, json } = await verifyCli(swapped);
    expect(code).toBe(1);
    expect(json.reason).toMatch(/is for licence/);
  });

  it('rejects a presented PDF that is not the licence signed (exit 1), another genuine licence included', async () => {
    const edited = Buffer.from(pdfs.business!);
    edited[edited.indexOf('/Producer') + 12] ^= 0x20;
    writeFileSync(file('edited.pdf'), edited);
    expect((await verifyCli(qr.business!, '', ['--pdf', file('edited.pdf')])).code).toBe(1);
    expect((await verifyCli(qr.business!, '', ['--pdf', file('food.pdf')])).json.pdfMatches).toBe(false);
  });

  it('says status unknown (exit 3) without a status list, or with one past its nextUpdate', async () => {
    const r = await stack.cli(['verify-qr', qr.business!, '--root', rootPem(), '--trust-list', file('trust.json'), '--json']);
    expect(r.code).toBe(3);
    const root = stack.services.authority.root.certificate;
    const trustList = readTrustList(readFileSync(file('trust.json'), 'utf8'), root);
    const statusList = readStatusList(readFileSync(file('status.json'), 'utf8'), root);
    const later = new Date(Date.parse(statusList.nextUpdate) + 1000);
    expect(verifyQr({ text: qr.business!, trustList, statusList, now: later }).verdict).toBe('unknown');
    expect(verifyQr({ text: qr.business!, trustList, statusList }).verdict).toBe('genuine');
  });

  it('refuses a trust list not signed by the given root (exit 2)', async () => {
    const list = JSON.parse(readFileSync(file('trust.json'), 'utf8'));
    const payload = JSON.parse(Buffer.from(list.payload, 'base64url').toString());
    payload.licenceQr[0].status = 'active';
    payload.licenceQr.push({ ...payload.licenceQr[0], kid: '0000000000000000' });
    writeFileSync(file('trust-forged.json'), JSON.stringify({ ...list, payload: Buffer.from(JSON.stringify(payload)).toString('base64url') }));
    const r = await stack.cli(['verify-qr', qr.business!, '--root', rootPem(), '--trust-list', file('trust-forged.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/signature does not verify/);
  });
});

describe('status changes seen offline', () => {
  it('says revoked (exit 4) once a refreshed status list lists it; the older list still says genuine', async () => {
    await revokeLicence(deps, ids.business!, '企业申请注销登记', 'test');
    await writeLists('-after-revoke');
    const { code, json } = await verifyCli(qr.business!, '-after-revoke');
    expect(code).toBe(4);
    expect(json.status).toBe('revoked');
    expect((await verifyCli(qr.business!)).code).toBe(0);
  });

  it('says superseded (exit 4) for the old version, genuine for the new one', async () => {
    const next = await changeLicence(deps, ids.food!, { ...issuedData.food!, address: '上海市徐汇区漕溪北路90号2层' }, 'test');
    const nextQr = scan((await getLicencePdf(stack.services.store.db, next.id))!, 150, 'food-2');
    await writeLists('-after-change');
    expect((await verifyCli(qr.food!, '-after-change')).json.status).toBe('superseded');
    expect((await verifyCli(qr.food!, '-after-change')).code).toBe(4);
    const current = await verifyCli(nextQr, '-after-change');
    expect(current.code).toBe(0);
    expect(current.json.payload.version).toBe(2);
  });
});

describe('an independent decoder (cbor-x + WebCrypto, no OneSeal code)', () => {
  it('verifies the trust list’s JWS with the root and the payload’s ES256 signature with the certificate the kid names', async () => {
    const subtle = webcrypto.subtle;
    const jws = JSON.parse(readFileSync(file('trust.json'), 'utf8'));
    const rootSpki = new X509Certificate(Buffer.from(stack.services.authority.root.certificate)).publicKey.export({ type: 'spki', format: 'der' });
    const rootKey = await subtle.importKey('spki', rootSpki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    expect(await subtle.verify('RSASSA-PKCS1-v1_5', rootKey, Buffer.from(jws.signature, 'base64url'), Buffer.from(`${jws.protected}.${jws.payload}`))).toBe(true);
    const list = JSON.parse(Buffer.from(jws.payload, 'base64url').toString());

    const text = qr.person!;
    const cose = cborDecode(Buffer.from(text.slice(text.indexOf('#os1.') + 5), 'base64url')) as Tag;
    expect(cose.tag).toBe(18);
    const [protectedBytes, unprotected, payloadBytes, signature] = cose.value as [Uint8Array, unknown, Uint8Array, Uint8Array];
    expect(unprotected instanceof Map ? unprotected.size : Object.keys(unprotected as object).length).toBe(0);
    const header = cborDecode(protectedBytes) as Record<number, unknown> | Map<number, unknown>;
    const get = (k: number): unknown => (header instanceof Map ? header.get(k) : header[k]);
    expect(get(1)).toBe(-7);
    const kid = Buffer.from(get(4) as Uint8Array).toString('hex');
    const entry = list.licenceQr.find((c: { kid: string }) => c.kid === kid);
    const leafDer = Buffer.from(entry.x5c[0], 'base64');
    expect(createHash('sha256').update(leafDer).digest().subarray(0, 8).toString('hex')).toBe(kid);
    const leafSpki = new X509Certificate(leafDer).publicKey.export({ type: 'spki', format: 'der' });
    const key = await subtle.importKey('spki', leafSpki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const toBeSigned = cborEncode(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes]);
    expect(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, toBeSigned)).toBe(true);
    const payload = cborDecode(payloadBytes) as Record<string, unknown>;
    expect(payload.id).toBe(ids.person);
    expect(Object.keys(payload).sort()).toEqual(['holder', 'holderId', 'id', 'issuedAt', 'issuer', 'pdf', 'type', 'validFrom', 'validTo', 'version']);
    // And the tampered signature fails for it too.
    const bad = Buffer.from(signature);
    bad[5] ^= 1;
    expect(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, bad, toBeSigned)).toBe(false);
  });
});

describe('licence-QR key rotation and revocation (CLI, two-person control)', () => {
  /** Runs a CLI command as `who`; the JSON it prints. */
  async function cliAs(who: TestPerson, args: string[]): Promise<Record<string, any>> {
    await cliLogin(stack, who);
    const r = await stack.cli([...args, '--json']);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out);
  }

  /** Alice proposes, Bob approves: the change's result. */
  async function twoPeople(args: string[]): Promise<Record<string, any>> {
    const proposed = await cliAs(alice, args);
    expect(proposed.executed).toBe(false);
    const approved = await cliAs(bob, ['seal', 'approve', proposed.proposal.id]);
    expect(approved.proposal).toMatchObject({ status: 'executed', approvedBy: 'person:h17-bob', proposedBy: 'person:h17-alice' });
    return approved.result;
  }

  let alice: TestPerson;
  let bob: TestPerson;
  beforeAll(async () => {
    // The licence seal under two-person control: the QR key follows it.
    await requestChange(stack.services, { kind: 'break-glass', osUser: 'test' }, 'seal.two-person', { sealId: 'approval', on: true });
    alice = await addPerson(stack, 'h17-alice', ['seal-admin']);
    bob = await addPerson(stack, 'h17-bob', ['seal-admin']);
  });

  it('is refused to a person without seal-admin, and not carried out by the proposer alone', async () => {
    const officer = await addPerson(stack, 'h17-officer', ['licence-officer']);
    await cliLogin(stack, officer);
    const refused = await stack.cli(['pki', 'qr-rotate']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/needs the role seal-admin/);
    const proposed = await cliAs(alice, ['pki', 'qr-rotate']);
    expect(proposed.executed).toBe(false);
    const own = await stack.cli(['seal', 'approve', proposed.proposal.id]);
    expect(own.err).toMatch(/cannot approve it too/);
    expect((await cliAs(alice, ['seal', 'reject', proposed.proposal.id])).proposal.status).toBe('rejected');
  });

  it('keeps payloads of a retired key verifiable; a revoked key’s signatures after the revocation fail', async () => {
    const root = stack.services.authority.root.certificate;
    const keyDeps = { db: stack.services.store.db, hsm: stack.services.hsm };
    const oldKid = Buffer.from((await activeLicenceQrSigner(keyDeps)).kid).toString('hex');
    const rotation = await twoPeople(['pki', 'qr-rotate']);
    const newKid = rotation.kid as string;
    expect(rotation.retired).toBe(oldKid);
    expect(newKid).not.toBe(oldKid);
    await issue('after-rotation', 'business-licence', freshSample('business-licence'));
    await writeLists('-rotated');
    const rotated = readTrustList(readFileSync(file('trust-rotated.json'), 'utf8'), root);
    expect(rotated.licenceQr.map((c) => [c.kid, c.status])).toEqual([[oldKid, 'retired'], [newKid, 'active']]);
    expect((await verifyCli(qr.person!, '-rotated')).code).toBe(0);
    expect((await verifyCli(qr['after-rotation']!, '-rotated')).code).toBe(0);

    // The new key is compromised: an attacker holding it signs a payload now, after the revocation.
    const stolen = await activeLicenceQrSigner(keyDeps);
    const genuine = decodeQrPayload(parseSign1Payload(qr['after-rotation']!));
    expect(await twoPeople(['pki', 'qr-revoke', newKid, '--reason', 'keyCompromise'])).toMatchObject({ kid: newKid, status: 'retired' });
    await writeLists('-qr-revoked');
    const forgedPayload = { ...genuine, validTo: '长期', issuedAt: Math.floor(Date.now() / 1000) + 1 };
    const url = qr['after-rotation']!.slice(0, qr['after-rotation']!.indexOf('#'));
    const forged = qrText(url, await createSign1(encodeQrPayload(forgedPayload), stolen.kid, stolen.sign));
    const after = await verifyCli(forged, '-qr-revoked');
    expect(after.code).toBe(1);
    expect(after.json.reason).toMatch(/after its certificate was revoked/);
    // What it signed before the revocation still verifies, and so does the retired key's.
    expect((await verifyCli(qr['after-rotation']!, '-qr-revoked')).code).toBe(0);
    expect((await verifyCli(qr.person!, '-qr-revoked')).code).toBe(0);
    // No key signs until the next rotation.
    await expect(issueLicence(deps, { type: 'business-licence', data: freshSample('business-licence') }, 'test')).rejects.toThrow(/no licence-QR signing key/);
  });
});
