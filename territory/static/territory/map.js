// The territory map: the user's top units, drill-down to micro-grids and households.
// Everything comes from this server's API; no request leaves it.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("map-text").textContent);
  const map = L.map("map", { zoomControl: true });
  WanggeBasemap.add(map, config);
  map.setView([32.68, 112.09], 9);

  const palette = { county: "#b3261e", township: "#d35400", village: "#1f6fb2", grid: "#2e7d32", microgrid: "#6a1b9a" };
  let layer = null;
  let pointLayer = null;
  let selected = null;
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
        shape.bindTooltip(label(feature.properties.name + " (" + feature.properties.households + ")"));
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
    document.getElementById("map").dataset.loaded = String(features.length);
    return features;
  }

  async function select(feature, shape) {
    if (selected) selected.setStyle(styleFor(selected.feature, false));
    selected = shape;
    shape.setStyle(styleFor(feature, true));
    const response = await fetch("/api/units/" + feature.properties.code + "/", { credentials: "same-origin" });
    const data = await response.json();
    const p = data.properties;
    const f = p.figures;
    const rows = [
      [text.levels[p.level], p.code],
      [text.households, f.households.toLocaleString()],
      [text.population, f.population.toLocaleString()],
      ...(p.level === "grid" || p.level === "microgrid" ? [[text.gridChief, f.grid_chief || text.none]] : []),
      [text.elderly, f.elderly_living_alone], [text.leftBehind, f.left_behind_children],
      [text.lowIncome, f.low_income], [text.keyAttention, f.key_attention],
      [text.area, (p.area_m2 / 1e6).toFixed(2) + " km²"],
    ];
    const info = document.getElementById("unit-info");
    info.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = p.name;
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
      button.onclick = () => drill(p.code, p.name, p.level, f.children);
      info.appendChild(button);
    }
  }

  async function drill(code, name, level, children) {
    trail.push({ code: code, name: name });
    renderTrail();
    if (children > 0) await show("/api/units/?parent=" + encodeURIComponent(code), true);
    if ((level === "grid" || level === "microgrid") && "seesHouseholds" in document.getElementById("map").dataset) showHouseholds(code);
  }

  async function showHouseholds(code) {
    const features = await fetchAll("/api/households/?grid=" + encodeURIComponent(code) + "&crs=" + config.crs);
    pointLayer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 4, color: "#333", weight: 1, fillColor: "#ffb300", fillOpacity: 0.9 }),
      onEachFeature: (f, marker) => marker.bindTooltip(label(f.properties.address + " · " + f.properties.head_name)),
    }).addTo(map);
  }

  function renderTrail() {
    const nav = document.getElementById("breadcrumb");
    nav.replaceChildren();
    const root = document.createElement("a");
    root.textContent = text.territory;
    root.onclick = () => { trail.length = 0; renderTrail(); show("/api/units/?top=1", true); };
    nav.appendChild(root);
    trail.forEach((step, i) => {
      const sep = document.createElement("span"); sep.className = "sep"; sep.textContent = "›";
      const link = document.createElement("a"); link.textContent = step.name;
      link.onclick = () => { trail.length = i + 1; renderTrail(); show("/api/units/?parent=" + encodeURIComponent(step.code), true); };
      nav.append(sep, link);
    });
  }

  renderTrail();
  show("/api/units/?top=1", true).catch((error) => console.error(error));
  window.wanggeMap = { map: map, drill: drill };
})();
