// The app shell is kept for opening without a signal; API answers always come from the
// network (the app shows what it has when there is none).
const SHELL = "observer-desk-shell-v7";
const FILES = [
  "/", "/app/app.css", "/app/main.js", "/app/api.js", "/app/dom.js", "/app/photos.js", "/app/outbox.js", "/app/i18n.js",
  "/app/screens/login.js", "/app/screens/issues.js", "/app/screens/issue.js", "/app/screens/file.js",
  "/app/screens/feed.js", "/app/screens/projects.js", "/app/screens/desk.js", "/app/screens/dashboard.js",
  "/app/screens/admin.js", "/app/screens/inspections.js",
  "/app/icon.svg", "/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  const key = url.pathname === "/" ? "/" : url.pathname;
  if (!FILES.includes(key)) return;
  // Network first, so a new version is picked up at once; the cache when offline.
  event.respondWith(fetch(event.request)
    .then((r) => { const copy = r.clone(); caches.open(SHELL).then((c) => c.put(key, copy)); return r; })
    .catch(() => caches.match(key)));
});
