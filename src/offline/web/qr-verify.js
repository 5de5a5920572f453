// Offline verification of OneSeal licence QR codes in the browser (issue 17): the same checks as
// src/offline/verify-qr.ts, written for WebCrypto and without a build step, because this file is served
// as it is to the public licence page and to the offline verifier (/verify-offline/).
// Payload format: see src/licences/qr-payload.ts. Trust and status lists: JWS (RS256 by the root).

const ROOT_KEY = 'oneseal-root-der';
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function fromBase64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
const fromBase64 = (text) => fromBase64url(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

// A strict reader of the CBOR subset the payload uses: integers, byte and text strings, arrays, maps, tags.
function cborRead(bytes, at) {
  const first = bytes[at++];
  if (first === undefined) throw new Error('truncated CBOR');
  const major = first >> 5;
  let arg = first & 31;
  if (arg >= 24) {
    if (arg > 27) throw new Error('indefinite or reserved CBOR length');
    const size = 1 << (arg - 24);
    if (at + size > bytes.length) throw new Error('truncated CBOR');
    arg = 0;
    for (let i = 0; i < size; i++) arg = arg * 256 + bytes[at++];
    if (major !== 7 && arg < (size === 1 ? 24 : 2 ** (4 * size))) throw new Error('CBOR head not in shortest form');
  }
  const take = (n) => {
    if (at + n > bytes.length) throw new Error('truncated CBOR');
    at += n;
    return bytes.slice(at - n, at);
  };
  switch (major) {
    case 0: return [arg, at];
    case 1: return [-1 - arg, at];
    case 2: return [take(arg), at];
    case 3: return [utf8.decode(take(arg)), at];
    case 4: {
      const out = [];
      for (let i = 0; i < arg; i++) { let v; [v, at] = cborRead(bytes, at); out.push(v); }
      return [out, at];
    }
    case 5: {
      const map = new Map();
      for (let i = 0; i < arg; i++) {
        let k, v;
        [k, at] = cborRead(bytes, at);
        if (map.has(k)) throw new Error('duplicate CBOR map key');
        [v, at] = cborRead(bytes, at);
        map.set(k, v);
      }
      return [map, at];
    }
    case 6: { let v; [v, at] = cborRead(bytes, at); return [{ tag: arg, value: v }, at]; }
    default: throw new Error('CBOR floats and simple values are not used');
  }
}

export function decodeCbor(bytes) {
  const [value, end] = cborRead(bytes, 0);
  if (end !== bytes.length) throw new Error('trailing bytes after CBOR');
  return value;
}

function bstrHead(n) {
  if (n < 24) return [0x40 | n];
  if (n < 256) return [0x58, n];
  return [0x59, n >> 8, n & 255];
}

// Sig_structure = ["Signature1", protected, h'', payload]
function sigStructure(protectedBytes, payload) {
  const label = new TextEncoder().encode('Signature1');
  return new Uint8Array([0x84, 0x60 | label.length, ...label, ...bstrHead(protectedBytes.length), ...protectedBytes, 0x40, ...bstrHead(payload.length), ...payload]);
}

// DER: the SubjectPublicKeyInfo of an X.509 certificate (7th element of tbsCertificate, or 6th without version).
function derItem(bytes, at) {
  const tag = bytes[at];
  let len = bytes[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i];
    start += n;
  }
  return { tag, start, end: start + len, at };
}
export function spkiOfCertificate(der) {
  const cert = derItem(der, 0);
  const tbs = derItem(der, cert.start);
  let at = tbs.start;
  let item = derItem(der, at);
  if (item.tag === 0xa0) { at = item.end; item = derItem(der, at); }
  for (let i = 0; i < 5; i++) { at = item.end; item = derItem(der, at); }
  return der.slice(item.at, item.end);
}

const sameBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The root pinned on first use (from /pki/certs/root.crt of this origin), kept for offline use. */
export async function pinnedRoot(fetchRoot) {
  const kept = localStorage.getItem(ROOT_KEY);
  if (kept) return fromBase64(kept);
  const der = new Uint8Array(await (await fetchRoot()).arrayBuffer());
  localStorage.setItem(ROOT_KEY, btoa(String.fromCharCode(...der)));
  return der;
}

/** The payload of a signed list (JWS JSON, RS256) after checking it against the pinned root. */
export async function readSignedList(text, typ, rootDer) {
  const jws = JSON.parse(text);
  const header = JSON.parse(utf8.decode(fromBase64url(jws.protected)));
  if (header.alg !== 'RS256' || header.typ !== typ) throw new Error(`not a ${typ}`);
  if (!sameBytes(fromBase64(header.x5c[0]), rootDer)) throw new Error(`the ${typ} is not signed by the pinned root`);
  const key = await crypto.subtle.importKey('spki', spkiOfCertificate(rootDer), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, fromBase64url(jws.signature), new TextEncoder().encode(`${jws.protected}.${jws.payload}`));
  if (!ok) throw new Error(`the ${typ} signature does not verify`);
  return JSON.parse(utf8.decode(fromBase64url(jws.payload)));
}

/** China's calendar date (UTC+8), YYYY-MM-DD. */
const chinaDate = (ms) => new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10);

const PAYLOAD_TEXT = ['id', 'type', 'holder', 'holderId', 'issuer', 'validFrom', 'validTo'];

/**
 * Checks a scanned QR text. Returns { verdict: 'genuine'|'forged'|'unknown'|'ended', reason, payload?, status? }
 * with the same meaning as `oneseal verify-qr` (0, 1, 3, 4).
 */
export async function verifyQrText(text, trustList, statusList, now = Date.now()) {
  const forged = (reason) => ({ verdict: 'forged', reason });
  const hash = text.indexOf('#os1.');
  if (hash < 0) return forged('不是带签名的证照二维码');
  const url = text.slice(0, hash);
  let cose, header, payload;
  try {
    const encoded = text.slice(hash + 5).trim();
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw new Error('not base64url');
    cose = decodeCbor(fromBase64url(encoded));
    if (cose && cose.tag === 18) cose = cose.value;
    if (!Array.isArray(cose) || cose.length !== 4 || !(cose[0] instanceof Uint8Array) || !(cose[2] instanceof Uint8Array) || !(cose[3] instanceof Uint8Array)) throw new Error('not a COSE_Sign1');
    if (!(cose[1] instanceof Map) || cose[1].size !== 0) throw new Error('unprotected header not empty');
    header = decodeCbor(cose[0]);
    if (!(header instanceof Map) || header.size !== 2 || header.get(1) !== -7 || !(header.get(4) instanceof Uint8Array) || cose[3].length !== 64) throw new Error('not ES256 with a kid');
  } catch (e) {
    return forged(`二维码内容已损坏或被篡改（${e.message}）`);
  }
  const kid = hex(header.get(4));
  const entry = trustList.licenceQr.find((c) => c.kid === kid);
  if (!entry) return forged(`签名密钥 ${kid} 不在信任列表中`);
  const leaf = fromBase64(entry.x5c[0]);
  const key = await crypto.subtle.importKey('spki', spkiOfCertificate(leaf), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, cose[3], sigStructure(cose[0], cose[2]));
  if (!ok) return forged('签名与内容不符：二维码被篡改或伪造');
  try {
    payload = decodeCbor(cose[2]);
    if (!(payload instanceof Map) || payload.size !== 10) throw new Error('wrong payload');
    for (const k of PAYLOAD_TEXT) if (typeof payload.get(k) !== 'string') throw new Error(k);
    if (!Number.isInteger(payload.get('version')) || !Number.isInteger(payload.get('issuedAt')) || !(payload.get('pdf') instanceof Uint8Array)) throw new Error('wrong payload');
  } catch {
    return forged('签名内容格式不符');
  }
  payload = Object.fromEntries(payload);
  if (!url.endsWith(`/v/${payload.id}`)) return forged(`签名内容属于证照 ${payload.id}，与二维码链接不符`);
  const issuedAt = payload.issuedAt * 1000;
  if (issuedAt < Date.parse(entry.notBefore) || issuedAt > Date.parse(entry.notAfter)) return forged('签发时间不在签名证书有效期内');
  if (entry.status === 'revoked' && entry.revokedAt && issuedAt >= Date.parse(entry.revokedAt)) return forged('签名密钥的证书已被撤销');
  const signed = { payload, kid };
  if (payload.validTo !== '长期' && chinaDate(now) > payload.validTo) return { verdict: 'ended', status: 'expired', reason: '签名有效，但证照已过期', ...signed };
  if (statusList) {
    if (statusList.revoked.some((r) => r.id === payload.id)) return { verdict: 'ended', status: 'revoked', reason: '签名有效，但证照已注销', ...signed };
    const s = statusList.superseded.find((r) => r.id === payload.id);
    if (s) return { verdict: 'ended', status: 'superseded', reason: `签名有效，但证照已变更为 ${s.by}`, ...signed };
  }
  if (!statusList || now > Date.parse(statusList.nextUpdate) || now > Date.parse(trustList.nextUpdate)) {
    return { verdict: 'unknown', status: 'unknown', reason: '签名有效，当前状态未知（状态列表缺失或过期）', ...signed };
  }
  return { verdict: 'genuine', status: 'valid', reason: '签名有效，证照有效', ...signed };
}

/** Whether a PDF's first revision (up to the first %%EOF and its end-of-line) has the SHA-256 the payload signed. */
export async function pdfMatches(pdfBytes, payload) {
  const bytes = new Uint8Array(pdfBytes);
  const mark = [0x25, 0x25, 0x45, 0x4f, 0x46];
  let at = -1;
  for (let i = 0; i + 5 <= bytes.length && at < 0; i++) if (mark.every((m, j) => bytes[i + j] === m)) at = i;
  if (at < 0) return false;
  let end = at + 5;
  if (bytes[end] === 0x0d) end++;
  if (bytes[end] === 0x0a) end++;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.subarray(0, end)));
  return sameBytes(digest, payload.pdf);
}

/**
 * The trust and status lists: fetched fresh when the network allows and kept in localStorage, else the
 * kept ones. Returns { trustList, statusList, trustFetchedAt, statusFetchedAt, statusError }.
 */
export async function loadLists(base = '') {
  const root = await pinnedRoot(() => fetch(`${base}/pki/certs/root.crt`));
  const load = async (name, typ) => {
    let error;
    try {
      const res = await fetch(`${base}/.well-known/oneseal/${name}.json`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await res.text();
      await readSignedList(text, typ, root);
      localStorage.setItem(`oneseal-${name}`, JSON.stringify({ text, at: new Date().toISOString() }));
    } catch (e) {
      error = e.message;
    }
    const kept = JSON.parse(localStorage.getItem(`oneseal-${name}`) ?? 'null');
    return { list: kept ? await readSignedList(kept.text, typ, root) : undefined, at: kept?.at, error };
  };
  const trust = await load('trust-list', 'oneseal-trust-list+jws');
  const status = await load('status-list', 'oneseal-status-list+jws');
  return { trustList: trust.list, statusList: status.list, trustFetchedAt: trust.at, statusFetchedAt: status.at, trustError: trust.error, statusError: status.error };
}
