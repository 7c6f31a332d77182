// Service worker of the field page (scope /field/). The page shell and its assets are served
// from the cache when the network fails, so the page opens offline; API reads are network
// first with the last answer as fallback; writes are never touched here (the page queues them
// in its outbox). The asset list is filled in by the server (patrols.views.service_worker).
const CACHE = "wangge-field-v1";
const ASSETS = __ASSETS__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(["/field/", ...ASSETS])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || request.mode === "navigate") {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() =>
          caches.match(request, { ignoreVary: true }).then(
            (hit) =>
              hit ||
              (request.mode === "navigate"
                ? caches.match("/field/")
                : new Response(JSON.stringify({ detail: "offline", code: "service_unavailable", errors: [] }), { status: 503, headers: { "Content-Type": "application/json" } }))
          )
        )
    );
    return;
  }
  event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
});
