/**
 * The console's one stylesheet and one script, served from /console/assets/ so the Content-Security-Policy
 * allows only 'self' (no inline script or style at all). The script only enhances: every page works
 * without it (copy buttons, confirmation before a change, a theme-free print button).
 */
import { createHash } from 'node:crypto';

export const CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f4f3ef;color:#1d1d1f;font:15px/1.55 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
a{color:#8a1712}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #1a56c4;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:8px}.skip:focus{left:8px;z-index:10}
header.top{background:#8a1712;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:6px 16px;padding:10px 18px}
header.top .brand{font-weight:700;font-size:17px;letter-spacing:.04em;color:#fff;text-decoration:none}
header.top .who{margin-left:auto;font-size:13.5px}
header.top a,header.top button.link{color:#fff}
nav.main{background:#fff;border-bottom:1px solid #ddd8cc;overflow-x:auto}
nav.main ul{display:flex;margin:0;padding:0 10px;list-style:none;gap:2px;white-space:nowrap}
nav.main a{display:block;padding:10px 12px;text-decoration:none;color:#333;border-bottom:3px solid transparent}
nav.main a[aria-current=page]{border-color:#8a1712;color:#8a1712;font-weight:600}
main{max-width:1200px;margin:0 auto;padding:16px 18px 40px}
h1{font-size:22px;margin:4px 0 14px}
h2{font-size:17px;margin:22px 0 10px}
.card{background:#fff;border:1px solid #e2ddd2;border-radius:8px;padding:14px 16px;margin:0 0 14px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:14px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:7px 9px;border-bottom:1px solid #e6e1d6;vertical-align:top}
th{background:#f7f5f0;font-weight:600;font-size:13.5px;color:#333}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12.5px;background:#e8e6e0;color:#333}
.badge.ok{background:#dcefe0;color:#17582a}.badge.warn{background:#fbead0;color:#7a4700}.badge.bad{background:#f8dcda;color:#8f1d16}
.notice{padding:10px 14px;border-radius:6px;margin:0 0 14px;border:1px solid}
.notice.ok{background:#eef8f0;border-color:#9cc9a6;color:#17582a}.notice.bad{background:#fcefee;border-color:#e3a39e;color:#8f1d16}.notice.info{background:#eef3fb;border-color:#a9bfe3;color:#1d3d73}
form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
button,.button{display:inline-block;font:inherit;padding:7px 14px;border-radius:6px;border:1px solid #8a1712;background:#8a1712;color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:#8a1712}
button.link{background:none;border:0;padding:0;text-decoration:underline;color:inherit}
.field{margin:0 0 12px}
.field label{display:block;font-weight:600;margin:0 0 3px}
.field .hint{color:#555;font-size:13px;margin:2px 0 0}
.field .error{color:#a0170f;font-size:13.5px;margin:3px 0 0;font-weight:600}
input[type=text],input[type=password],input[type=date],input[type=search],input[type=number],select,textarea{font:inherit;width:100%;max-width:520px;padding:7px 9px;border:1px solid #8d877b;border-radius:5px;background:#fff;color:#1d1d1f}
input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#a0170f;border-width:2px}
fieldset{border:1px solid #ddd8cc;border-radius:6px;margin:0 0 12px;padding:8px 12px}
legend{font-weight:600}
.checks label{display:inline-flex;gap:5px;margin:0 14px 4px 0;font-weight:400}
form.filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:flex-end;background:#fff;border:1px solid #e2ddd2;border-radius:8px;padding:10px 12px;margin:0 0 14px}
form.filters .field{margin:0}
form.filters input,form.filters select{width:auto;min-width:150px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.kv dt{color:#555}dl.kv dd{margin:0;word-break:break-all}
.secret{display:flex;flex-wrap:wrap;gap:8px;align-items:center;background:#fffbe8;border:1px dashed #b08a00;padding:8px 10px;border-radius:6px}
.secret code{font-size:14px;word-break:break-all}
.seal-img{width:160px;height:160px}
.qr svg{width:200px;height:200px;background:#fff}
.muted{color:#555}
.login{max-width:400px;margin:40px auto}
.pager{display:flex;gap:12px;margin:10px 0}
@media (max-width:600px){
  header.top{padding:8px 12px}
  main{padding:12px 10px 32px}
  dl.kv{grid-template-columns:1fr}
  dl.kv dd{margin-bottom:6px}
  table.stack thead{display:none}
  table.stack tr{display:block;border-bottom:2px solid #e2ddd2}
  table.stack td{display:block;border:0;padding:3px 9px;overflow-wrap:anywhere}
  table.stack td::before{content:attr(data-label);display:block;color:#555;font-size:12px}
  form.filters input,form.filters select{min-width:0;width:100%}
  form.filters .field{flex:1 1 100%}
}
@media print{header.top,nav.main,.actions,form,.noprint{display:none}body{background:#fff}}
`;

export const JS = `
'use strict';
document.addEventListener('click', function (e) {
  var t = e.target;
  if (!(t instanceof Element)) return;
  var copy = t.closest('[data-copy]');
  if (copy) {
    var text = document.getElementById(copy.getAttribute('data-copy')).textContent;
    navigator.clipboard.writeText(text).then(function () { copy.textContent = copy.getAttribute('data-done'); });
  }
  var print = t.closest('[data-print]');
  if (print) window.print();
});
document.addEventListener('submit', function (e) {
  var f = e.target;
  if (f instanceof HTMLFormElement && f.hasAttribute('data-confirm') && !window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();
});
`;

const version = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);
export const CSS_PATH = `/console/assets/console-${version(CSS)}.css`;
export const JS_PATH = `/console/assets/console-${version(JS)}.js`;

/** Scripts and styles from this origin's files only; images also as data: (seal images, QR code as SVG inline). */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
