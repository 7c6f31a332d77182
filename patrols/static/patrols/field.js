// The field page: my grids, today's route, my position, "log incident" in three taps, my
// recent incidents. Works offline: incidents (with their photos) and GPS fixes wait in an
// IndexedDB outbox on the phone and are sent when the connection returns. Each incident's id
// is made here, so a resend after a lost answer never stores it twice.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("field-text").textContent);
  const $ = (id) => document.getElementById(id);
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch((e) => console.warn(e));
  }

  // --- the outbox (IndexedDB) ---------------------------------------------------------
  const DB = "wangge-field";
  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "id" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function store(mode, action) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("outbox", mode);
      const result = action(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }
  const outboxAll = () => store("readonly", (s) => s.getAll());
  const outboxPut = (record) => store("readwrite", (s) => s.put(record));
  const outboxDelete = (id) => store("readwrite", (s) => s.delete(id));

  // --- sending --------------------------------------------------------------------------
  let flushing = null;
  function flush() {
    // One flush at a time; a second call waits for the running one.
    if (!flushing) flushing = doFlush().finally(() => { flushing = null; });
    return flushing;
  }
  async function doFlush() {
    const records = (await outboxAll()).sort((a, b) => a.queuedAt - b.queuedAt);
    for (const record of records) {
      if (record.failed) continue;
      let response;
      try {
        response = await send(record);
      } catch (error) {
        break; // offline or the server is unreachable: try again later
      }
      if (response.ok) {
        await outboxDelete(record.id);
      } else if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        // Refused for good (a 4xx other than a timeout or throttling): kept, with why, until
        // the worker moves the point or discards it; never resent as it is.
        const body = await response.json().catch(() => ({}));
        record.failed = {
          message: errorText(body) || String(response.status),
          codes: (body.errors || []).map((e) => e.code).filter(Boolean),
        };
        await outboxPut(record);
        showTab($("tab-incidents")); // it needs the worker: show it
      } else {
        break;
      }
    }
    await render();
  }
  // The API's one error body: {detail, code, errors: [{where, message}]}.
  function errorText(body) {
    const problems = (body.errors || []).map((e) => (e.where ? e.where + ": " : "") + e.message);
    return problems.length ? problems.join("; ") : body.detail || "";
  }
  function send(record) {
    if (record.kind === "incident") {
      const form = new FormData();
      for (const [key, value] of Object.entries(record.fields)) form.append(key, value);
      record.photos.forEach((photo, i) => form.append("photos", photo.blob, photo.name || "photo" + i + ".jpg"));
      return fetch("/api/incidents/", { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } });
    }
    return fetch("/api/patrols/tracks/", {
      method: "POST",
      body: JSON.stringify(record.body),
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
    });
  }
  window.addEventListener("online", () => { showNetwork(); flush(); });
  window.addEventListener("offline", showNetwork);
  function showNetwork() {
    const badge = $("network");
    badge.textContent = navigator.onLine ? text.online : text.offline;
    badge.classList.toggle("offline", !navigator.onLine);
  }

  // --- map, position, route -------------------------------------------------------------
  // Positions stay in WGS84 everywhere (GPS, the API, the outbox); the map shows the CRS its
  // tiles are drawn in (GCJ-02 for most Chinese tiles), so they convert at the map's edge only.
  const MAP_CRS = { gcj02: gcoord.GCJ02, bd09: gcoord.BD09 }[config.crs];
  function toMap(lon, lat) {
    if (!MAP_CRS) return L.latLng(lat, lon);
    const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, MAP_CRS);
    return L.latLng(y, x);
  }
  function fromMap(latlng) {
    if (!MAP_CRS) return [latlng.lng, latlng.lat];
    return gcoord.transform([latlng.lng, latlng.lat], MAP_CRS, gcoord.WGS84);
  }
  const geoJSON = (data, options) => L.geoJSON(data, { ...options, coordsToLatLng: (c) => toMap(c[0], c[1]) });
  // The phone's own time zone and the page's language (the API speaks UTC).
  const when = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" });

  // Is [lon, lat] (WGS84) inside a GeoJSON Polygon or MultiPolygon (WGS84)? Even-odd rule
  // over every ring, so holes count; a warning, not a decision (the server places).
  function inShape(point, geometry) {
    const [x, y] = point;
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    let inside = false;
    for (const polygon of polygons) {
      for (const ring of polygon) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i];
          const [xj, yj] = ring[j];
          if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
        }
      }
    }
    return inside;
  }
  let unitShape = null; // the chosen grid's boundary, for the warning

  const map = L.map("map");
  WanggeBasemap.add(map, config);
  map.setView([32.68, 112.09], 12);
  let unitLayer = null;
  let routeLayer = null;
  let me = null;
  let position = null; // [lon, lat]
  let chosen = null; // a point tapped on the map
  let moving = null; // the id of a refused incident whose point the next tap moves
  let chosenMarker = null;
  let fixes = [];

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status + " " + url);
    return response.json();
  }

  async function showUnit() {
    const code = $("unit").value;
    try {
      const unit = await getJson("/api/units/" + encodeURIComponent(code) + "/");
      unitShape = unit.geometry || null;
      if (unitLayer) unitLayer.remove();
      unitLayer = geoJSON(unit, { style: { color: "#2e7d32", weight: 2, fillOpacity: 0.05 }, interactive: false }).addTo(map);
      unitLayer.eachLayer((l) => l.getElement() && l.getElement().setAttribute("data-code", code));
      map.fitBounds(unitLayer.getBounds(), { padding: [10, 10] });
    } catch (error) { console.warn(error); }
    await showRoute();
    $("map").dataset.loaded = "1";
  }

  async function showRoute() {
    const code = $("unit").value;
    let url = "/api/patrols/route/?grid=" + encodeURIComponent(code);
    if (position) url += "&lon=" + position[0] + "&lat=" + position[1];
    let route;
    try { route = await getJson(url); } catch (error) { return; }
    if (routeLayer) routeLayer.remove();
    routeLayer = L.layerGroup().addTo(map);
    geoJSON(route, { style: { color: "#1f6fb2", weight: 3, dashArray: route.properties.follows_roads ? null : "6 6" }, interactive: false }).addTo(routeLayer);
    const list = $("route-stops");
    list.replaceChildren();
    // Stops that overlap at the map's zoom are one badge with their number of stops; its name
    // lists them ("Stops 4, 5, 6"); zooming in (or Enter on it) parts them.
    const stopLayer = WanggeClusters.group({
      className: "stop-cluster",
      count: (markers) => markers.length,
      label: (markers) => text.stops + " " + markers.map((m) => m.options.order).sort((a, b) => a - b).join(", "),
    });
    for (const stop of route.properties.stops) {
      const p = stop.properties;
      const [lon, lat] = stop.geometry.coordinates;
      // An element, not a string: Leaflet would parse a string as HTML.
      const number = document.createElement("span");
      number.textContent = String(p.order);
      L.marker(toMap(lon, lat), {
        icon: L.divIcon({ className: "stop-number", html: number, iconSize: [28, 28] }),
        order: p.order,
        title: text.stop + " " + p.order + " · " + p.address, // a property: set as text
      }).addTo(stopLayer);
      // One stop per building: its due households folded under it.
      const item = document.createElement("li");
      const households = p.households || [];
      const head = [p.address, Math.round(p.leg_m) + " m"];
      if (households.length > 1) head.push(households.length + " " + text.households);
      if (p.overdue_days) head.push("+" + p.overdue_days + "d");
      if (households.length > 1) {
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = head.join(" · ");
        const flats = document.createElement("ul");
        for (const h of households) {
          const flat = document.createElement("li");
          // The flat's own part of the address (the stop's name says the building).
          const own = h.address.startsWith(p.address) ? h.address.slice(p.address.length) : h.address;
          flat.textContent = (own || h.address) + (h.overdue_days ? " · +" + h.overdue_days + "d" : "");
          flats.appendChild(flat);
        }
        details.append(summary, flats);
        item.appendChild(details);
      } else {
        item.textContent = head.join(" · ");
      }
      list.appendChild(item);
    }
    stopLayer.addTo(routeLayer);
    $("route-summary").textContent = (route.properties.total_m / 1000).toFixed(2) + " km, " +
      (route.properties.follows_roads ? text.roads : text.straight);
  }

  // While the worker chooses where something happened, a tap on a stop or a cluster sets the
  // point instead of opening the marker: markers let the tap through to the map.
  function syncChoosing() {
    map.getContainer().classList.toggle(
      "choosing-point", !$("incident-form").hidden || moving !== null);
  }

  map.on("click", async (event) => {
    if (moving) {
      // The refused incident's new point: it is sent again from there.
      const record = (await outboxAll()).find((r) => r.id === moving);
      moving = null;
      $("moving").hidden = true;
      syncChoosing();
      if (!record) return;
      const [lon, lat] = fromMap(event.latlng);
      record.fields.lon = String(lon);
      record.fields.lat = String(lat);
      delete record.failed;
      await outboxPut(record);
      await render();
      if (navigator.onLine) flush();
      return;
    }
    chosen = fromMap(event.latlng);
    if (chosenMarker) chosenMarker.remove();
    chosenMarker = L.circleMarker(event.latlng, { radius: 8, color: "#b3261e" }).addTo(map);
    $("where").textContent = text.tapped;
  });

  if ("geolocation" in navigator) {
    navigator.geolocation.watchPosition((pos) => {
      position = [pos.coords.longitude, pos.coords.latitude];
      const latlng = toMap(position[0], position[1]);
      if (!me) me = L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillColor: "#1a73e8", fillOpacity: 1 }).addTo(map);
      else me.setLatLng(latlng);
      fixes.push({ t: new Date(pos.timestamp).toISOString(), lon: position[0], lat: position[1], accuracy: pos.coords.accuracy });
      if (fixes.length >= 30) queueTrack();
    }, (error) => console.warn(error), { enableHighAccuracy: true, maximumAge: 10000 });
  }

  async function queueTrack() {
    if (!fixes.length) return;
    const batch = fixes;
    fixes = [];
    const id = crypto.randomUUID();
    await outboxPut({ id: id, kind: "track", queuedAt: Date.now(), body: { client_id: id, fixes: batch } });
    if (navigator.onLine) flush(); else render();
  }
  setInterval(queueTrack, 120000);
  window.addEventListener("pagehide", queueTrack);

  // --- logging an incident: tap 1 opens, tap 2 picks what, tap 3 sends ------------------
  async function loadCatalogue() {
    let items;
    try {
      items = await getJson("/api/incident-categories/");
      localStorage.setItem("wangge-catalogue", JSON.stringify(items));
    } catch (error) {
      items = JSON.parse(localStorage.getItem("wangge-catalogue") || "[]");
    }
    const select = $("item");
    const groups = {};
    for (const entry of items) {
      if (!entry.parent) {
        groups[entry.code] = document.createElement("optgroup");
        groups[entry.code].label = entry.name;
        select.appendChild(groups[entry.code]);
      }
    }
    for (const entry of items) {
      if (entry.parent && groups[entry.parent]) {
        const option = document.createElement("option");
        option.value = entry.code;
        option.textContent = entry.name;
        groups[entry.parent].appendChild(option);
      }
    }
  }

  $("log-incident").onclick = () => {
    $("incident-form").hidden = false;
    syncChoosing();
    $("where").textContent = chosen ? text.tapped : position ? text.here : text.noPosition;
  };
  $("cancel").onclick = () => { $("incident-form").hidden = true; syncChoosing(); };
  $("send").onclick = async () => {
    const where = chosen || position;
    if (!$("item").value) { $("where").textContent = text.pickItem; return; }
    if (!where) { $("where").textContent = text.noPosition; return; }
    // Warn first, rather than have the server refuse it later (perhaps hours later, offline).
    if (unitShape && !inShape(where, unitShape) && !window.confirm(text.outsideWarning)) return;
    const files = Array.from($("photos").files).slice(0, 6);
    const id = crypto.randomUUID();
    await outboxPut({
      id: id,
      kind: "incident",
      queuedAt: Date.now(),
      label: $("item").selectedOptions[0].textContent,
      fields: {
        id: id, item: $("item").value, lon: String(where[0]), lat: String(where[1]),
        severity: $("severity").value, description: $("description").value,
        observed_at: new Date().toISOString(),
      },
      // Blobs survive in IndexedDB, so the photos go with the incident when it is sent.
      photos: files.map((f) => ({ name: f.name, blob: f })),
    });
    $("incident-form").hidden = true;
    syncChoosing();
    showTab($("tab-incidents")); // where the worker sees it wait, then sent
    $("description").value = "";
    $("photos").value = "";
    chosen = null;
    if (chosenMarker) { chosenMarker.remove(); chosenMarker = null; }
    await render();
    if (navigator.onLine) flush();
  };

  // --- my recent incidents and the outbox ----------------------------------------------
  // Why a refusal happened, in the worker's language when the server named it (its code).
  function reason(failed) {
    if (typeof failed === "string") return failed; // kept by an older page
    for (const code of failed.codes || []) if (text.reasons[code]) return text.reasons[code];
    return failed.message;
  }

  function button(label, className, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    b.onclick = onClick;
    return b;
  }

  async function render() {
    const incidents = (await outboxAll()).filter((r) => r.kind === "incident");
    const pending = incidents.filter((r) => !r.failed);
    const refused = incidents.filter((r) => r.failed);
    const badge = $("outbox");
    badge.dataset.waiting = String(pending.length);
    badge.dataset.refused = String(refused.length);
    badge.textContent = [
      pending.length ? pending.length + " " + text.waiting : "",
      refused.length ? refused.length + " " + text.failed : "",
    ].filter(Boolean).join(" · ");
    badge.classList.toggle("refused", refused.length > 0);
    const list = $("incidents");
    list.replaceChildren();
    for (const record of refused) {
      const item = document.createElement("li");
      item.className = "failed";
      item.dataset.id = record.id;
      const what = document.createElement("span");
      what.textContent = record.label + " · " + text.failed + ": " + reason(record.failed);
      const fixes = document.createElement("div");
      fixes.className = "actions";
      fixes.append(
        button(text.movePoint, "move", () => {
          moving = record.id;
          $("moving").hidden = false;
          syncChoosing();
        }),
        button(text.discard, "discard", async () => {
          if (!window.confirm(text.confirmDiscard)) return;
          await outboxDelete(record.id);
          await render();
        }),
      );
      item.append(what, fixes);
      list.appendChild(item);
    }
    for (const record of pending) {
      const item = document.createElement("li");
      item.className = "queued";
      item.dataset.id = record.id;
      item.textContent = record.label + " · " + text.waiting;
      list.appendChild(item);
    }
    try {
      const page = await getJson("/api/incidents/?mine=1&page_size=20");
      for (const feature of page.features) {
        const p = feature.properties;
        const item = document.createElement("li");
        item.className = "sent";
        item.dataset.id = p.id;
        item.textContent = p.item_name + " · " + when.format(new Date(p.observed_at)) + " · " + (text.statuses[p.status] || p.status) +
          (p.photos.length ? " · 📷" + p.photos.length : "");
        list.appendChild(item);
      }
    } catch (error) { /* offline: the queued ones are shown */ }
  }

  // The two lists as tabs (WAI-ARIA tabs: arrows move between them).
  const tabs = [$("tab-route"), $("tab-incidents")];
  function showTab(tab) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
  }
  $("outbox").onclick = () => showTab($("tab-incidents"));
  tabs.forEach((tab, i) => {
    tab.onclick = () => showTab(tab);
    tab.onkeydown = (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const next = tabs[(i + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      showTab(next);
      next.focus();
    };
  });

  $("unit").onchange = showUnit;
  // Only when the page lists part of the user's grids (a superuser's city): search the rest.
  if ($("unit-search")) {
    let timer = null;
    $("unit-search").addEventListener("input", () => {
      clearTimeout(timer);
      const typed = $("unit-search").value.trim();
      if (!typed) return;
      timer = setTimeout(async () => {
        let page;
        try { page = await getJson("/api/grids/?level=grid&page_size=50&q=" + encodeURIComponent(typed)); } catch (error) { return; }
        if ($("unit-search").value.trim() !== typed) return; // a later keystroke's answer wins
        const options = (page.features || []).map((f) => {
          const option = document.createElement("option");
          option.value = f.properties.code;
          option.textContent = f.properties.name;
          return option;
        });
        if (!options.length) return;
        $("unit").replaceChildren(...options);
        showUnit();
      }, 300);
    });
  }
  showNetwork();
  loadCatalogue();
  showUnit();
  render().then(() => { if (navigator.onLine) flush(); });
  window.wanggeField = { flush: flush, outbox: outboxAll, map: map };
})();
