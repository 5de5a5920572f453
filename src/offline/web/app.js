// The offline verifier (/verify-offline/): scan (BarcodeDetector, else the vendored jsQR) or paste a licence QR code, check its
// signature and status against the kept trust and status lists, and compare a presented PDF with the
// payload's hash. Works with the network off once visited (sw.js).
import { loadLists, pdfMatches, verifyQrText } from './qr-verify.js';

const $ = (id) => document.getElementById(id);
const VERDICT = { genuine: '真实有效', forged: '伪造或被篡改', unknown: '签名有效，状态未知', ended: '签名有效，但已失效' };
let lists;
let current;

const when = (iso) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '从未');

async function refresh() {
  lists = await loadLists();
  const note = (e) => (e ? '（本次未能更新，使用保存的副本）' : '');
  $('lists').textContent = `信任列表更新于 ${when(lists.trustFetchedAt)}${note(lists.trustError)}；状态列表更新于 ${when(lists.statusFetchedAt)}${note(lists.statusError)}`;
}

function show(check) {
  current = check;
  $('result-card').hidden = false;
  $('result').textContent = check.verdict === 'forged' ? `离线核验：${VERDICT.forged}` : `离线核验：签名有效 · ${VERDICT[check.verdict]}`;
  $('result').className = check.verdict;
  $('reason').textContent = check.reason;
  $('pdf-result').textContent = '';
  const p = check.payload;
  const rows = p ? [['证照标识', p.id], ['持证者', p.holder], ['证件号码', p.holderId], ['签发机关代码', p.issuer], ['有效期', `${p.validFrom} 至 ${p.validTo}`], ['版本', String(p.version)]] : [];
  $('fields').replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
}

/** A message where the result would show (its card may still be hidden). */
function notice(text) {
  $('result-card').hidden = false;
  $('reason').textContent = text;
}

async function check(text) {
  if (!lists?.trustList) await refresh();
  if (!lists.trustList) return show({ verdict: 'forged', reason: '没有信任列表：请先联网打开本页一次' });
  show(await verifyQrText(text.trim(), lists.trustList, lists.statusList));
}

/** jsQR (jsqr.js, vendored), loaded on first use where the browser has no BarcodeDetector (Chromium on Linux, Firefox). */
let jsqr;
function loadJsqr() {
  jsqr ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = 'jsqr.js';
    script.onload = () => resolve(window.jsQR);
    script.onerror = () => reject(new Error('二维码解码器无法载入'));
    document.head.append(script);
  });
  return jsqr;
}

/** A photo is scaled down to this many pixels on its longer side: enough for a 48 mm code, and jsQR stays quick. */
const MAX_SIDE = 2048;

/** The text of the first QR code in an image, video frame or bitmap; undefined when none is found. */
async function detect(source) {
  if ('BarcodeDetector' in window) {
    const codes = await new BarcodeDetector({ formats: ['qr_code'] }).detect(source);
    return codes[0]?.rawValue;
  }
  const decode = await loadJsqr();
  const [w0, h0] = source instanceof HTMLVideoElement ? [source.videoWidth, source.videoHeight] : [source.width, source.height];
  const scale = Math.min(1, MAX_SIDE / Math.max(w0, h0));
  const [w, h] = [Math.round(w0 * scale), Math.round(h0 * scale)];
  if (!w || !h) return undefined;
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  g.drawImage(source, 0, 0, w, h);
  return decode(g.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: 'dontInvert' })?.data || undefined;
}

async function scan() {
  const video = $('video');
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  video.hidden = false;
  await video.play();
  let text;
  while (!(text = await detect(video).catch(() => undefined))) await new Promise((r) => requestAnimationFrame(r));
  video.srcObject.getTracks().forEach((t) => t.stop());
  video.hidden = true;
  $('text').value = text;
  await check(text);
}

$('check').addEventListener('click', () => check($('text').value));
$('scan').addEventListener('click', () => scan().catch((e) => notice(e.message)));
$('photo').addEventListener('change', async () => {
  const file = $('photo').files[0];
  if (!file) return;
  const text = await detect(await createImageBitmap(file)).catch(() => undefined);
  if (!text) {
    notice('照片中未找到二维码，请靠近重拍或粘贴内容');
    return;
  }
  $('text').value = text;
  await check(text);
});
$('pdf').addEventListener('change', async () => {
  const file = $('pdf').files[0];
  if (!file || !current?.payload) return;
  const ok = await pdfMatches(await file.arrayBuffer(), current.payload);
  $('pdf-result').textContent = ok ? '文件与二维码签名一致：是签发时的证照' : '文件与二维码签名不符：不是签发时的证照';
  $('pdf-result').className = ok ? 'ok' : 'bad';
});

if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' });
refresh().catch((e) => ($('lists').textContent = `无法取得信任列表：${e.message}`));
