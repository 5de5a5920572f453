// The public licence page (/v/{id}): when the QR code's fragment carries a signed payload, check it here
// with WebCrypto against the trust list (kept from an earlier visit when the network fails) and say so,
// whatever the status request answers.
import { loadLists, verifyQrText } from './qr-verify.js';

const box = document.getElementById('offline-check');
const say = (id, text, cls) => {
  const el = document.getElementById(id);
  el.textContent = text;
  if (cls) el.className = cls;
};

async function run() {
  if (!box || !location.hash.startsWith('#os1.')) return;
  box.hidden = false;
  const lists = await loadLists();
  if (!lists.trustList) return say('offline-result', '离线核验：无法取得信任列表', 'bad');
  const check = await verifyQrText(location.href, lists.trustList, lists.statusList);
  if (check.verdict === 'forged') return say('offline-result', `离线核验：签名无效（${check.reason}）`, 'bad');
  say('offline-result', '离线核验：签名有效', 'ok');
  const status = lists.statusError || !lists.statusList ? `状态查询失败，以上状态以页面为准（${lists.statusError ?? '无状态列表'}）` : check.reason;
  say('offline-status', status);
}

run().catch((e) => say('offline-result', `离线核验：出错（${e.message}）`, 'bad'));
