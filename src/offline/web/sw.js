// The offline verifier's service worker: its own files and the pinned root from the cache first (they
// change only with a new release); the trust and status lists from the network first, the cached copy
// when offline (the page shows when each was last refreshed).
const CACHE = 'oneseal-verify-offline-v2';
const FILES = ['./', 'index.html', 'app.js', 'qr-verify.js', 'jsqr.js', 'style.css', 'manifest.webmanifest', 'icon.svg', '/pki/certs/root.crt'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/.well-known/oneseal/')) {
    event.respondWith(
      fetch(event.request).then((res) => {
        if (res.ok) caches.open(CACHE).then((c) => c.put(url.pathname, res.clone()));
        return res;
      }).catch(() => caches.match(url.pathname).then((r) => r ?? Response.error())),
    );
    return;
  }
  event.respondWith(caches.match(event.request, { ignoreSearch: true }).then((r) => r ?? fetch(event.request)));
});
