// The command screen (一张屏): one map of the commander's territory with density cells, a
// choropleth, hot spots, cards and workers, and the panel that filters and explains them.
// Everything comes from /api/command/ on this server, already aggregated: no raw points. Every
// string from the data is set as text (textContent, DOM nodes), never parsed as markup.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("command-text").textContent);
  const lang = document.documentElement.lang || "zh-hans";
  const english = lang.startsWith("en");
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format;
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format;
  const nameOf = (p) => (english && p.name_en) || p.name;
  const $ = (id) => document.getElementById(id);
  const mapEl = $("map");
  // preferCanvas: every overlay is drawn on canvas, so the PNG export can copy the view.
  const map = L.map("map", { zoomControl: false, preferCanvas: true });
  L.control.zoom({ zoomInTitle: text.zoomIn, zoomOutTitle: text.zoomOut }).addTo(map);
  WanggeBasemap.add(map, config);
  map.setView([32.65, 112.1], 10);
  const renderer = L.canvas({ padding: 0.3 });
  // The data is WGS84; a GCJ-02 or BD-09 basemap (WANGGE_BASEMAP_CRS) gets every position
  // shifted as the field page does (vendored gcoord), so the layers sit on its streets.
  const MAP_CRS = window.gcoord && { gcj02: gcoord.GCJ02, bd09: gcoord.BD09 }[config.crs];
  const toMap = (lon, lat) => (MAP_CRS ? gcoord.transform([lon, lat], gcoord.WGS84, MAP_CRS) : [lon, lat]);
  const fromMap = (lon, lat) => (MAP_CRS ? gcoord.transform([lon, lat], MAP_CRS, gcoord.WGS84) : [lon, lat]);
  const latLng = (lon, lat) => { const [x, y] = toMap(lon, lat); return L.latLng(y, x); };
  const onMap = (geojson) => (MAP_CRS ? gcoord.transform(geojson, gcoord.WGS84, MAP_CRS) : geojson);

  const state = { unit: "", spotLevel: "", bbox: null };
  const layers = { choropleth: null, hotspots: null, cards: null, workers: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v;
      else if (k === "colour") node.style.setProperty("--colour", v); // CSSOM: the CSP allows it
      else node.setAttribute(k, v);
    });
    children.forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return node;
  }

  function status(message) {
    $("command-status").textContent = message || "";
  }

  function query(extra) {
    const p = new URLSearchParams();
    if (state.unit) p.set("unit", state.unit);
    const period = $("f-period").value;
    p.set("period", period);
    if (period === "custom") {
      p.set("start", $("f-start").value);
      p.set("end", $("f-end").value);
    } else if ($("f-date").value) {
      p.set("date", $("f-date").value);
    }
    const catalogue = $("f-catalogue").value;
    if (catalogue.startsWith("category:")) p.set("category", catalogue.slice(9));
    if (catalogue.startsWith("item:")) p.set("item", catalogue.slice(5));
    if ($("f-status").value) p.set("status", $("f-status").value);
    if ($("f-source").value) p.set("source", $("f-source").value);
    Object.entries(extra || {}).forEach(([k, v]) => p.set(k, v));
    return p.toString();
  }

  async function get(path, extra) {
    const response = await fetch("/api/command/" + path + "/?" + query(extra), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || String(response.status));
    return body;
  }

  // --- density cells on a canvas of their own ---------------------------------------------------
  const HeatLayer = L.Layer.extend({
    initialize() { this.data = null; },
    onAdd(m) {
      this.canvas = L.DomUtil.create("canvas", "heat-canvas leaflet-zoom-hide");
      m.getPanes().overlayPane.appendChild(this.canvas);
      m.on("moveend resize", this.draw, this);
      this.draw();
    },
    onRemove(m) {
      m.off("moveend resize", this.draw, this);
      this.canvas.remove();
    },
    set(data) { this.data = data; this.draw(); },
    draw() {
      if (!this._map || !this.canvas) return;
      const size = this._map.getSize();
      const canvas = this.canvas;
      canvas.width = size.x;
      canvas.height = size.y;
      L.DomUtil.setPosition(canvas, this._map.containerPointToLayerPoint([0, 0]));
      const ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, size.x, size.y);
      if (!this.data || !this.data.cells.length) { canvas.dataset.cells = "0"; return; }
      const cell = this.data.cell_m;
      const top = Math.log1p(this.data.max);
      const merc = L.Projection.SphericalMercator;
      let drawn = 0;
      for (const [ix, iy, n] of this.data.cells) {
        const nw = merc.unproject(L.point(ix * cell, (iy + 1) * cell));
        const se = merc.unproject(L.point((ix + 1) * cell, iy * cell));
        const a = this._map.latLngToContainerPoint(latLng(nw.lng, nw.lat));
        const b = this._map.latLngToContainerPoint(latLng(se.lng, se.lat));
        if (b.x < 0 || a.x > size.x || b.y < 0 || a.y > size.y) continue;
        const t = top ? Math.log1p(n) / top : 1;
        ctx.fillStyle = heatColour(t);
        ctx.fillRect(a.x, a.y, Math.max(1, b.x - a.x), Math.max(1, b.y - a.y));
        drawn += 1;
      }
      canvas.dataset.cells = String(drawn);
    },
  });
  // Pale yellow to dark red, translucent so the streets stay readable.
  function heatColour(t) {
    const r = 255;
    const g = Math.round(230 - 200 * t);
    const b = Math.round(120 - 110 * t);
    return "rgba(" + r + "," + g + "," + b + "," + (0.35 + 0.45 * t).toFixed(2) + ")";
  }
  const heat = new HeatLayer().addTo(map);

  async function loadHeat() {
    const layer = $("f-heat").value;
    if (!layer) { heat.set(null); mapEl.dataset.heat = "off"; legendHeat(null); return; }
    const extra = { layer: layer, zoom: map.getZoom() };
    if (map.getZoom() >= 14) {
      const b = map.getBounds().pad(0.5);
      const sw = fromMap(b.getWest(), b.getSouth());
      const ne = fromMap(b.getEast(), b.getNorth());
      extra.bbox = [sw[0], sw[1], ne[0], ne[1]].map((v) => v.toFixed(5)).join(",");
    }
    const data = await get("heat", extra);
    heat.set(data);
    legendHeat(data);
    mapEl.dataset.heat = "drawn";
  }

  // --- choropleth and hot spots -------------------------------------------------------------------
  const CLASS_COLOURS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"];
  const measureName = { cases_per_100: text.casesPer100, overdue_rate: text.overdueRate, coverage: text.coverage };
  const asMeasure = (measure, v) => (v === null || v === undefined ? text.noData : measure === "cases_per_100" ? number(v) : percent(v));

  function tooltip(props, measure) {
    return el("span", {}, nameOf(props) + " · " + measureName[measure] + ": " + asMeasure(measure, props[measure]));
  }

  async function loadChoropleth() {
    if (layers.choropleth) { layers.choropleth.remove(); layers.choropleth = null; }
    const drill = $("f-drill");
    if (!$("f-choropleth").checked || !$("f-level").value) { legendClasses(null); mapEl.dataset.choropleth = "off"; return; }
    const measure = $("f-measure").value;
    const data = await get("choropleth", { level: $("f-level").value, measure: measure, classes: $("f-classes").value, zoom: map.getZoom() });
    layers.choropleth = L.geoJSON(onMap(data), {
      renderer: renderer,
      style: (f) => ({
        color: "#555", weight: 1, fillOpacity: f.properties.class === null ? 0.05 : 0.55,
        fillColor: f.properties.class === null ? "#ccc" : CLASS_COLOURS[f.properties.class] || "#ccc",
      }),
      onEachFeature: (feature, shape) => {
        shape.bindTooltip(tooltip(feature.properties, measure), { sticky: true });
        shape.on("click", () => drillTo(feature.properties.code));
      },
    }).addTo(map);
    if (layers.hotspots) layers.hotspots.bringToFront();
    drill.replaceChildren(
      el("option", { value: "" }, "—"),
      ...data.features
        .map((f) => f.properties)
        .sort((a, b) => (b[measure] ?? -1) - (a[measure] ?? -1))
        .map((p) => el("option", { value: p.code }, nameOf(p) + " · " + asMeasure(measure, p[measure])))
    );
    legendClasses(data);
    mapEl.dataset.choropleth = "drawn";
  }

  const SPOT = { hot: { 99: "#b2182b", 95: "#ef8a62", 90: "#fddbc7" }, cold: { 99: "#2166ac", 95: "#67a9cf", 90: "#d1e5f0" } };

  async function loadHotspots() {
    if (layers.hotspots) { layers.hotspots.remove(); layers.hotspots = null; }
    $("legend-spots").hidden = !$("f-hotspots").checked;
    if (!$("f-hotspots").checked || !state.spotLevel) return;
    const measure = $("f-measure").value;
    const data = await get("hotspots", { level: state.spotLevel, measure: measure, zoom: map.getZoom() });
    data.features = data.features.filter((f) => f.properties.confidence);
    layers.hotspots = L.geoJSON(onMap(data), {
      renderer: renderer,
      style: (f) => ({ color: SPOT[f.properties.spot][f.properties.confidence], weight: 4, fill: false }),
      onEachFeature: (feature, shape) => {
        const p = feature.properties;
        shape.bindTooltip(el("span", {}, nameOf(p) + " · " + (p.spot === "hot" ? text.hot : text.cold) + " " + p.confidence + "% " + text.confidence + " (z " + number(p.z) + ")"), { sticky: true });
        shape.on("click", () => drillTo(p.code));
      },
    }).addTo(map);
  }

  // --- cards and workers ------------------------------------------------------------------------------
  async function loadCards() {
    if (layers.cards) { layers.cards.remove(); layers.cards = null; }
    const list = $("card-list");
    if (!$("f-cards").checked) { list.replaceChildren(); $("cards-count").textContent = ""; return; }
    const data = await get("cards");
    layers.cards = L.layerGroup(
      data.cards.map((c) => {
        const marker = L.circleMarker(latLng(c.lon, c.lat), {
          renderer: renderer, radius: 7, weight: 2, color: "#fff",
          fillColor: c.card === "red" ? "#c62828" : "#f9a825", fillOpacity: 1,
        });
        marker.bindPopup(() => el("a", { href: "/cases/" + encodeURIComponent(c.id) + "/" }, c.number + " " + ((english && c.item_en) || c.item)));
        return marker;
      })
    ).addTo(map);
    $("cards-count").textContent = "(" + number(data.cards.length) + ")";
    list.replaceChildren(
      ...data.cards.map((c) =>
        el("li", { class: "card-" + c.card },
          el("a", { href: "/cases/" + encodeURIComponent(c.id) + "/" }, c.number),
          " " + (c.card === "red" ? text.red : text.yellow) + " · " + ((english && c.item_en) || c.item) +
          (c.due_at ? " · " + text.due + " " + new Date(c.due_at).toLocaleString(lang) : ""))
      )
    );
    if (!data.cards.length) list.append(el("li", {}, text.noCards));
    if (data.truncated) list.append(el("li", {}, text.more));
  }

  async function loadWorkers() {
    if (layers.workers) { layers.workers.remove(); layers.workers = null; }
    const list = $("worker-list");
    if (!$("f-workers").checked) { list.replaceChildren(); $("workers-coverage").textContent = ""; return; }
    const data = await get("workers");
    const group = L.layerGroup();
    L.geoJSON(onMap(data.tracks), { renderer: renderer, style: { color: "#1f6fb2", weight: 3, opacity: 0.8 } }).addTo(group);
    data.workers.forEach((w) => {
      L.circleMarker(latLng(w.lon, w.lat), { renderer: renderer, radius: 6, color: "#fff", weight: 2, fillColor: "#1f6fb2", fillOpacity: 1 })
        .bindTooltip(el("span", {}, w.name + " · " + text.lastSeen + " " + new Date(w.at).toLocaleString(lang)))
        .addTo(group);
    });
    layers.workers = group.addTo(map);
    $("workers-coverage").textContent = text.visitedToday + " " + number(data.visited_today) + " / " + number(data.households) +
      (data.coverage_today === null ? "" : " (" + percent(data.coverage_today) + ")");
    list.replaceChildren(...data.workers.map((w) => el("li", {}, w.name + " · " + new Date(w.at).toLocaleString(lang))));
    if (!data.workers.length) list.append(el("li", {}, text.noWorkers));
  }

  // --- the panel: unit, headline figures, legend ---------------------------------------------------
  async function loadSummary(fit) {
    const data = await get("summary");
    const unit = data.unit;
    state.unit = unit.code;
    $("command-unit").textContent = nameOf(unit) + " · " + (text.levels[unit.level] || unit.level);
    $("command-trail").replaceChildren(
      ...unit.trail.flatMap((t, i) => {
        const link = el("a", { href: "#" + t.code }, nameOf(t));
        link.addEventListener("click", (event) => { event.preventDefault(); drillTo(t.code); });
        return i ? [el("span", { class: "sep", "aria-hidden": "true" }, "›"), link] : [link];
      })
    );
    const level = $("f-level");
    const wanted = level.value;
    level.replaceChildren(...unit.levels_below.map((lv) => el("option", { value: lv }, text.levels[lv] || lv)));
    // The choropleth starts one level down (a county's townships: 28 shapes, not 6,125 grids);
    // the hot spots are the grids' (Gi* on per-grid rates), or a grid's micro-grids.
    if (unit.levels_below.includes(wanted)) level.value = wanted;
    else if (unit.levels_below.length) level.value = unit.levels_below[0];
    state.spotLevel = unit.levels_below.includes("grid") ? "grid" : unit.levels_below[0] || "";
    state.bbox = unit.bbox;
    if (fit) map.fitBounds([latLng(unit.bbox[0], unit.bbox[1]), latLng(unit.bbox[2], unit.bbox[3])], { padding: [10, 10] });
    const h = data.headline;
    $("headline-span").textContent = h.start + " – " + h.end;
    $("headline").replaceChildren(
      ...h.figures.map((f) => {
        const show = (v) => (v === null ? "–" : f.name === "on_time_closing_rate" ? percent(v) : number(v));
        let trend = "";
        if (f.value !== null && f.previous !== null && f.value !== f.previous) trend = f.value > f.previous ? " ▲" : " ▼";
        return el("li", {}, el("span", { class: "figure-name" }, text[f.name]), el("strong", {}, show(f.value) + trend),
          el("small", {}, text.previous + " " + show(f.previous)));
      })
    );
  }

  function legendClasses(data) {
    const box = $("legend-classes");
    if (!data) { box.replaceChildren(); return; }
    const lg = data.legend;
    let lower = lg.min;
    const rows = lg.bins.map((upper, i) => {
      const label = asMeasure(data.measure, lower) + " – " + asMeasure(data.measure, upper) + " (" + number(lg.counts[i]) + ")";
      lower = upper;
      return el("li", {}, el("span", { class: "swatch", colour: CLASS_COLOURS[i] }), label);
    });
    box.replaceChildren(el("p", {}, measureName[data.measure]), el("ul", {}, ...rows, el("li", {}, el("span", { class: "swatch none" }), text.noData)));
  }

  function legendHeat(data) {
    const box = $("legend-heat");
    box.replaceChildren();
    if (!data) return;
    box.append(el("p", {}, el("span", { class: "ramp" }), number(data.total) + " · " + number(data.cells.length) + " " + text.cells + " (" + number(data.cell_m) + " m), " + text.perCell + " " + number(data.max)));
  }

  function buildLegend() {
    const spots = el("ul", { id: "legend-spots" });
    [["hot", 99], ["hot", 95], ["hot", 90], ["cold", 90], ["cold", 95], ["cold", 99]].forEach(([kind, c]) => {
      spots.append(el("li", {}, el("span", { class: "swatch line", colour: SPOT[kind][c] }), (kind === "hot" ? text.hot : text.cold) + " " + c + "%"));
    });
    spots.hidden = true;
    $("legend").replaceChildren(el("div", { id: "legend-heat" }), el("div", { id: "legend-classes" }), spots);
  }

  // --- loading, drilling, replaying ---------------------------------------------------------------
  async function run(name, fn) {
    try { await fn(); } catch (error) { status(text.failed + " " + name + ": " + error.message); }
  }

  async function reload(fit) {
    status("");
    delete mapEl.dataset.loaded; // until every layer of this view is in

    // The cells, cards and workers need only the unit (the API's default is the user's own):
    // they load beside the summary; the choropleth and hot spots wait for its levels.
    // The cells are asked for first: the first frame waits for them alone.
    await Promise.all([
      run("heat", loadHeat),
      run("summary", () => loadSummary(fit)).then(() =>
        Promise.all([run("choropleth", loadChoropleth), run("hotspots", loadHotspots)])
      ),
      run("cards", loadCards), run("workers", loadWorkers),
    ]);
    mapEl.dataset.loaded = "1";
    mapEl.dataset.unit = state.unit;
  }

  function drillTo(code) {
    if (!code || code === state.unit) return;
    state.unit = code;
    reload(true);
  }

  // The Monday `offset` weeks from this one (local dates: no time zone enters the sum).
  function weekDate(offset) {
    const [y, m, d] = $("f-date").max.split("-").map(Number);
    const day = new Date(Date.UTC(y, m - 1, d));
    day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7) + 7 * offset);
    return day.toISOString().slice(0, 10);
  }

  function showWeek() {
    const date = weekDate(Number($("f-week").value));
    $("f-week-label").textContent = text.week + " " + date;
    return date;
  }

  let playing = null;
  $("f-play").addEventListener("click", () => {
    const button = $("f-play");
    if (playing) {
      clearInterval(playing); playing = null;
      button.textContent = text.play; button.setAttribute("aria-pressed", "false");
      return;
    }
    button.textContent = text.pause; button.setAttribute("aria-pressed", "true");
    $("f-period").value = "week";
    const slider = $("f-week");
    if (Number(slider.value) === 0) slider.value = slider.min;
    const step = async () => {
      $("f-date").value = showWeek();
      await Promise.all([run("heat", loadHeat), run("choropleth", loadChoropleth)]);
      if (Number(slider.value) >= 0) { $("f-play").click(); reload(false); return; }
      slider.value = String(Number(slider.value) + 1);
    };
    step();
    playing = setInterval(step, 1500);
  });
  $("f-week").addEventListener("change", () => { $("f-period").value = "week"; $("f-date").value = showWeek(); reload(false); });
  $("f-week").addEventListener("input", showWeek);

  $("f-period").addEventListener("change", () => {
    const custom = $("f-period").value === "custom";
    document.querySelectorAll(".f-custom").forEach((n) => { n.hidden = !custom; });
    document.querySelector(".f-date").hidden = custom;
    if (!custom || ($("f-start").value && $("f-end").value)) reload(false);
  });
  ["f-date", "f-start", "f-end", "f-catalogue", "f-status", "f-source"].forEach((id) =>
    $(id).addEventListener("change", () => {
      if ($("f-period").value === "custom" && !($("f-start").value && $("f-end").value)) return;
      reload(false);
    })
  );
  $("f-heat").addEventListener("change", () => run("heat", loadHeat));
  ["f-choropleth", "f-measure", "f-level", "f-classes"].forEach((id) =>
    $(id).addEventListener("change", () => Promise.all([run("choropleth", loadChoropleth), run("hotspots", loadHotspots)]))
  );
  $("f-hotspots").addEventListener("change", () => run("hotspots", loadHotspots));
  $("f-cards").addEventListener("change", () => run("cards", loadCards));
  $("f-workers").addEventListener("change", () => run("workers", loadWorkers));
  $("f-drill-go").addEventListener("click", () => drillTo($("f-drill").value));
  $("command-filters").addEventListener("submit", (event) => event.preventDefault());

  let lastZoom = null;
  map.on("zoomend", () => {
    if (lastZoom !== null && lastZoom !== map.getZoom()) run("heat", loadHeat);
    lastZoom = map.getZoom();
  });
  map.on("moveend", () => { if (map.getZoom() >= 14) run("heat", loadHeat); });

  // --- the view as a PNG: the canvases of the map (tiles, cells, shapes), copied in place ----------
  $("export-png").addEventListener("click", () => {
    const box = mapEl.getBoundingClientRect();
    const scale = window.devicePixelRatio || 1;
    const out = document.createElement("canvas");
    out.width = Math.round(box.width * scale);
    out.height = Math.round(box.height * scale);
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#f2efe9";
    ctx.fillRect(0, 0, out.width, out.height);
    mapEl.querySelectorAll("canvas").forEach((c) => {
      const r = c.getBoundingClientRect();
      if (!r.width || !r.height) return;
      ctx.drawImage(c, (r.left - box.left) * scale, (r.top - box.top) * scale, r.width * scale, r.height * scale);
    });
    const link = el("a", { href: out.toDataURL("image/png"), download: "command-" + state.unit + "-" + $("f-date").value + ".png" });
    document.body.append(link);
    link.click();
    link.remove();
  });

  buildLegend();
  showWeek();
  lastZoom = map.getZoom();
  reload(true);
})();
