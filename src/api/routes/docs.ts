/**
 * GET /docs: a readable API reference that works offline. One self-contained page (no CDN, no
 * external files): its script fetches /openapi.json and lists every operation with its parameters,
 * request bodies and responses. The CSP allows exactly this inline script and style, by hash.
 */
import { createHash } from 'node:crypto';
import type { ServiceRouteRegistrar } from '../app.js';

const STYLE = `
body{font:15px/1.5 system-ui,"Noto Sans CJK SC",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#8b0000;color:#fff;padding:16px 32px}header h1{margin:0;font-size:22px}
main{max-width:1000px;margin:0 auto;padding:16px 32px}
nav a{display:block;color:#333;text-decoration:none;font-family:ui-monospace,monospace;font-size:13px}
section.op{background:#fff;border:1px solid #ddd;border-radius:6px;margin:18px 0;padding:12px 18px}
.m{display:inline-block;min-width:56px;font-weight:700;font-family:ui-monospace,monospace;color:#fff;border-radius:4px;padding:1px 6px;text-align:center}
.get{background:#2f6f3e}.post{background:#1f4e99}.put,.patch{background:#8a5a00}.delete{background:#9b1c1c}
code,.path{font-family:ui-monospace,monospace}.path{font-size:16px;margin-left:8px}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border-top:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top;font-size:14px}
h4{margin:12px 0 2px}.muted{color:#666}.lock{color:#8b0000;font-size:13px}
`;

const SCRIPT = `
(async () => {
  const el = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); for (const k of kids) e.append(k); return e; };
  const main = document.querySelector('main');
  let doc;
  try { const r = await fetch('/openapi.json'); doc = await r.json(); } catch (e) { main.append(el('p', {}, 'Cannot load /openapi.json: ' + e)); return; }
  document.querySelector('#version').textContent = doc.info.title + ' ' + doc.info.version;
  main.append(el('p', {}, doc.info.description || ''));
  const resolve = (s) => { if (s && s.$ref) { const n = s.$ref.split('/').pop(); return Object.assign({ title: n }, doc.components.schemas[n]); } return s || {}; };
  const typeOf = (s) => { s = resolve(s); if (s.title && s.properties) return s.title; if (s.enum) return s.enum.join(' | '); if (s.type === 'array') return typeOf(s.items) + '[]'; return [].concat(s.type || 'object').join(' | ') + (s.format ? ' (' + s.format + ')' : ''); };
  const schemaTable = (schema) => { const s = resolve(schema); if (!s.properties) return el('p', {}, el('code', {}, typeOf(s))); const t = el('table', {}, el('tr', {}, el('th', {}, 'field'), el('th', {}, 'type'), el('th', {}, 'description')));
    for (const [n, p] of Object.entries(s.properties)) { const rp = resolve(p); t.append(el('tr', {}, el('td', {}, el('code', {}, n + ((s.required || []).includes(n) ? ' *' : ''))), el('td', {}, typeOf(p)), el('td', {}, rp.description || ''))); } return t; };
  const nav = el('nav'); main.append(el('h3', {}, 'Operations'), nav);
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const id = op.operationId || (method + path).replace(/[^a-z0-9]+/gi, '-');
    nav.append(el('a', { href: '#' + id }, method.toUpperCase() + ' ' + path + (op.summary ? ' — ' + op.summary : '')));
    const sec = el('section', { class: 'op', id }, el('span', { class: 'm ' + method }, method.toUpperCase()), el('span', { class: 'path' }, path));
    if (op.security && op.security.length) sec.append(' ', el('span', { class: 'lock' }, '🔒 Bearer key'));
    if (op.summary) sec.append(el('h3', {}, op.summary));
    if (op.description) sec.append(el('p', {}, op.description));
    if (op.parameters && op.parameters.length) { const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, 'description')));
      for (const p of op.parameters) t.append(el('tr', {}, el('td', {}, el('code', {}, p.name + (p.required ? ' *' : ''))), el('td', {}, p.in), el('td', {}, typeOf(p.schema)), el('td', {}, [p.description, resolve(p.schema).description].filter(Boolean).join(' '))));
      sec.append(el('h4', {}, 'Parameters'), t); }
    if (op.requestBody) { sec.append(el('h4', {}, 'Request body')); for (const [type, c] of Object.entries(op.requestBody.content || {})) sec.append(el('p', {}, el('code', {}, type)), schemaTable(c.schema)); }
    sec.append(el('h4', {}, 'Responses'));
    const rt = el('table'); for (const [status, r] of Object.entries(op.responses || {})) rt.append(el('tr', {}, el('td', {}, el('code', {}, status)), el('td', {}, r.description || ''), el('td', { class: 'muted' }, Object.keys(r.content || {}).join(', '))));
    sec.append(rt); main.append(sec);
  }
})();
`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
const CSP = `default-src 'none'; script-src ${hash(SCRIPT)}; style-src ${hash(STYLE)}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>OneSeal API</title><style>${STYLE}</style></head>
<body><header><h1>OneSeal API reference</h1><div id="version"></div></header>
<main><p class="muted">Generated from <a href="/openapi.json">/openapi.json</a>. Errors are RFC 9457 problem+json. Authenticate with <code>Authorization: Bearer &lt;key&gt;</code> (keys come from <code>oneseal client add</code>).</p></main>
<script>${SCRIPT}</script></body></html>`;

export const registerDocsRoutes: ServiceRouteRegistrar = (router) => {
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', CSP);
    ctx.body = PAGE;
  });
};
