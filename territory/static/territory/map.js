// The territory map: the user's top units, drill-down to micro-grids and households.
// Everything comes from this server's API; no request leaves it.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("map-text").textContent);
  const map = L.map("map", { zoomControl: false });
  // Leaflet's own controls in the page's language.
  L.control.zoom({ zoomInTitle: text.zoomIn, zoomOutTitle: text.zoomOut }).addTo(map);
  const lang = document.documentElement.lang || "zh-hans";
  const english = lang.startsWith("en");
  const number = new Intl.NumberFormat(lang).format; // thousands separators, everywhere
  // A unit's name in the page's language: the English name in English when there is one.
  const nameOf = (p) => (english && p.name_en) || p.name;
  WanggeBasemap.add(map, config);
  map.setView([32.68, 112.09], 9);

  const palette = { county: "#b3261e", township: "#d35400", village: "#1f6fb2", grid: "#2e7d32", microgrid: "#6a1b9a" };
  let layer = null;
  let pointLayer = null;
  let selected = null;
  let shown = null; // the unit whose figures the panel shows (with its geometry)
  const trail = []; // [{code, name}] from the top of the territory down

  // Names and addresses are typed by people: Leaflet would parse a string tooltip as HTML, so
  // it gets an element whose text is set, never markup.
  function label(value) {
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  async function fetchAll(url) {
    const features = [];
    let next = url;
    while (next) {
      const response = await fetch(next, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status + " " + url);
      const page = await response.json();
      features.push(...page.features);
      next = page.next;
    }
    return features;
  }

  function styleFor(feature, active) {
    const colour = palette[feature.properties.level] || "#333";
    return { color: colour, weight: active ? 3 : 1.5, fillColor: colour, fillOpacity: active ? 0.35 : 0.12 };
  }

  async function show(url, fit) {
    const features = await fetchAll(url + (url.includes("?") ? "&" : "?") + "crs=" + config.crs + "&zoom=" + map.getZoom());
    if (layer) layer.remove();
    if (pointLayer) { pointLayer.remove(); pointLayer = null; }
    selected = null;
    layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: (f) => styleFor(f, false),
      onEachFeature: (feature, shape) => {
        shape.bindTooltip(label(nameOf(feature.properties) + " (" + number(feature.properties.households) + ")"));
        shape.on("click", () => select(feature, shape));
      },
    }).addTo(map);
    // Mark the drawn paths so that people (and browser tests) can find a unit by its code.
    layer.eachLayer((shape) => {
      const element = shape.getElement();
      element.setAttribute("data-code", shape.feature.properties.code);
      element.classList.add("unit-" + shape.feature.properties.level);
    });
    if (fit && features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
    listUnits(layer);
    document.getElementById("map").dataset.loaded = String(features.length);
    return features;
  }

  // The drawn units as a list beside the map: the keyboard's (and a screen reader's) way to
  // choose one, the same as a click on the map.
  function listUnits(drawn) {
    const list = document.getElementById("unit-list");
    list.replaceChildren();
    drawn.eachLayer((shape) => {
      const p = shape.feature.properties;
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.code = p.code;
      button.textContent = nameOf(p) + " · " + number(p.households) + " " + text.householdsUnit;
      button.onclick = () => select(shape.feature, shape);
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  async function select(feature, shape) {
    if (selected) selected.setStyle(styleFor(selected.feature, false));
    selected = shape;
    shape.setStyle(styleFor(feature, true));
    const response = await fetch("/api/units/" + encodeURIComponent(feature.properties.code) + "/", { credentials: "same-origin" });
    const data = await response.json();
    shown = data;
    const p = data.properties;
    const f = p.figures;
    const rows = [
      [text.levels[p.level], p.code],
      [text.households, f.households.toLocaleString()],
      [text.population, f.population.toLocaleString()],
      ...(p.level === "grid" || p.level === "microgrid" ? [[text.gridChief, f.grid_chief || text.none]] : []),
      [text.elderly, number(f.elderly_living_alone)], [text.leftBehind, number(f.left_behind_children)],
      [text.lowIncome, number(f.low_income)], [text.keyAttention, number(f.key_attention)],
      [text.area, new Intl.NumberFormat(lang, { maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(p.area_m2 / 1e6) + " " + text.km2],
    ];
    const info = document.getElementById("unit-info");
    info.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = nameOf(p);
    info.appendChild(title);
    const list = document.createElement("dl");
    for (const [label, value] of rows) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = value;
      list.append(dt, dd);
    }
    info.appendChild(list);
    // A grid's households are drawn only for those who may see them: for anyone else (a
    // resident) drilling into a grid with no micro-grids would show nothing.
    const seesHouseholds = "seesHouseholds" in document.getElementById("map").dataset;
    if (f.children > 0 || (seesHouseholds && (p.level === "grid" || p.level === "microgrid"))) {
      const button = document.createElement("button");
      button.id = "drill-down";
      button.textContent = text.drill;
      button.type = "button";
      button.onclick = () => drill(p.code, nameOf(p), p.level, f.children);
      info.appendChild(button);
    }
  }

  async function drill(code, name, level, children) {
    // Pressed twice (or a unit already drilled into): one step of the path, not two.
    if (!trail.length || trail[trail.length - 1].code !== code) trail.push({ code: code, name: name });
    renderTrail();
    if (children > 0) {
      await show("/api/units/?parent=" + encodeURIComponent(code), true);
    } else if (shown && shown.properties.code === code && shown.geometry) {
      // No children to draw (a micro-grid): still go there.
      map.fitBounds(L.geoJSON(shown).getBounds(), { padding: [10, 10] });
    }
    if ((level === "grid" || level === "microgrid") && "seesHouseholds" in document.getElementById("map").dataset) await showHouseholds(code);
  }

  // Households at one place (the flats of a building) are one marker with their number; a
  // click lists them. Grouped by their point as the API gives it. Places that overlap at the
  // map's zoom are one cluster counting their households (static/wangge/clusters.js).
  async function showHouseholds(code) {
    const features = await fetchAll("/api/households/?grid=" + encodeURIComponent(code) + "&crs=" + config.crs);
    if (pointLayer) pointLayer.remove(); // a micro-grid's households are its grid's: never twice
    pointLayer = WanggeClusters.group({
      className: "household-cluster",
      count: (markers) => markers.reduce((sum, m) => sum + (m.options.households || 1), 0),
      format: number,
      label: (markers, count) => number(count) + " " + text.householdsUnit + " · " + number(markers.length) + " " + text.places,
    });
    const places = new Map();
    for (const f of features) {
      const [x, y] = f.geometry.coordinates;
      const key = x.toFixed(6) + "," + y.toFixed(6);
      if (!places.has(key)) places.set(key, []);
      places.get(key).push(f);
    }
    for (const group of places.values()) {
      const [x, y] = group[0].geometry.coordinates;
      const latlng = L.latLng(y, x);
      if (group.length === 1) {
        const p = group[0].properties;
        L.circleMarker(latlng, { radius: 5, color: "#333", weight: 1, fillColor: "#ffb300", fillOpacity: 0.9, households: 1 })
          .bindTooltip(label(p.address + " · " + p.head_name)).addTo(pointLayer);
        continue;
      }
      const count = document.createElement("span");
      count.textContent = number(group.length);
      const marker = L.marker(latlng, {
        icon: L.divIcon({ className: "household-stack", html: count, iconSize: [30, 30] }),
        keyboard: true,
        title: number(group.length) + " " + text.householdsUnit,
        households: group.length,
      });
      const list = document.createElement("ul");
      list.className = "stack-list";
      for (const f of group) {
        const item = document.createElement("li");
        item.textContent = f.properties.address + " · " + f.properties.head_name;
        list.appendChild(item);
      }
      marker.bindPopup(list, { maxHeight: 260 });
      marker.bindTooltip(label(number(group.length) + " " + text.householdsUnit));
      marker.addTo(pointLayer);
    }
    pointLayer.addTo(map);
    document.getElementById("map").dataset.households = String(features.length);
    document.getElementById("map").dataset.places = String(places.size);
  }

  function renderTrail() {
    const nav = document.getElementById("breadcrumb");
    nav.replaceChildren();
    // Real links (reachable with Tab, opened with Enter); the page handles them itself.
    const root = document.createElement("a");
    root.href = "#top";
    root.textContent = text.territory;
    root.onclick = (event) => { event.preventDefault(); trail.length = 0; renderTrail(); show("/api/units/?top=1", true); };
    nav.appendChild(root);
    trail.forEach((step, i) => {
      const sep = document.createElement("span"); sep.className = "sep"; sep.textContent = "›";
      sep.setAttribute("aria-hidden", "true");
      const link = document.createElement("a"); link.textContent = step.name;
      link.href = "#" + encodeURIComponent(step.code);
      if (i === trail.length - 1) link.setAttribute("aria-current", "location");
      link.onclick = (event) => { event.preventDefault(); trail.length = i + 1; renderTrail(); show("/api/units/?parent=" + encodeURIComponent(step.code), true); };
      nav.append(sep, link);
    });
  }

  renderTrail();
  show("/api/units/?top=1", true).catch((error) => console.error(error));
  window.wanggeMap = { map: map, drill: drill };
})();
