// Service worker of the field page (scope /field/). The page shell and its assets are served
// from the cache when the network fails, so the page opens offline; API reads are network
// first with the last answer as fallback; writes are never touched here (the page queues them
// in its outbox). Basemap tiles are cache first, in a cache of their own that outlives a new
// version of the page and keeps the newest TILE_LIMIT tiles: the streets a worker walked stay
// on the phone with no network. The asset list and the limit are filled in by the server
// (patrols.views.service_worker).
const CACHE = "wangge-field-v1";
const TILES = "wangge-field-tiles";
const ASSETS = __ASSETS__;
const TILE_LIMIT = __TILE_LIMIT__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(["/field/", ...ASSETS])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE && k !== TILES).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/tiles/")) {
    event.respondWith(tile(request));
    return;
  }
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

// One trim at a time: the keys come back oldest first, the oldest go past the limit.
let trimming = Promise.resolve();

async function tile(request) {
  const cache = await caches.open(TILES);
  // A tile is the same whatever the language or cookie its Vary names.
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  // 200 and 204 (an empty tile) are kept; a 304 or an error is not a tile.
  if (response.status === 200 || response.status === 204) {
    await cache.put(request, response.clone());
    trimming = trimming.then(async () => {
      const keys = await cache.keys();
      await Promise.all(keys.slice(0, Math.max(0, keys.length - TILE_LIMIT)).map((k) => cache.delete(k)));
    });
  }
  return response;
}
