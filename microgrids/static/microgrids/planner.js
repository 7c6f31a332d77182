// The micro-grid planner: preview a division of one grid, adjust it, commit it, revert it.
// The proposal lives here, in the page, as the API's GeoJSON; every change is one API call.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("planner-text").textContent);
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const $ = (id) => document.getElementById(id);
  // Geometry stays in WGS84 everywhere (the API, the proposal); the map shows the CRS its tiles
  // are drawn in (GCJ-02 or BD-09 for most Chinese tiles, 100-700 m off WGS84), so positions
  // convert at the map's edge only, as on the field page.
  const MAP_CRS = { gcj02: gcoord.GCJ02, bd09: gcoord.BD09 }[config.crs];
  function toMap(lon, lat) {
    if (!MAP_CRS) return L.latLng(lat, lon);
    const [x, y] = gcoord.transform([lon, lat], gcoord.WGS84, MAP_CRS);
    return L.latLng(y, x);
  }
  function fromMap(lng, lat) {
    if (!MAP_CRS) return [lng, lat];
    return gcoord.transform([lng, lat], MAP_CRS, gcoord.WGS84);
  }
  const geoJSON = (data, options) => L.geoJSON(data, { ...options, coordsToLatLng: (c) => toMap(c[0], c[1]) });
  // A polygon drawn on the map, back in WGS84 (rings of [lng, lat] in the map's CRS).
  function drawnToWgs84(geometry) {
    const ring = (coordinates) => coordinates.map((c) => fromMap(c[0], c[1]));
    if (geometry.type === "Polygon") return { type: "Polygon", coordinates: geometry.coordinates.map(ring) };
    return { type: geometry.type, coordinates: geometry.coordinates.map((polygon) => polygon.map(ring)) };
  }

  const map = L.map("map");
  WanggeBasemap.add(map, config);
  map.setView([32.68, 112.09], 9);
  const colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf"];

  let grid = null; // code of the grid being planned
  let outline = null;
  let households = null;
  let proposal = null;
  let partsLayer = null;
  let selected = []; // part numbers, at most two

  // Unit names are typed by people: Leaflet would parse a string tooltip as HTML, so it gets
  // an element whose text is set, never markup.
  function label(value) {
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function say(message, isError) {
    const box = $("message");
    box.textContent = message || "";
    box.className = isError ? "error" : "";
    // An error is announced at once; progress politely.
    box.setAttribute("role", isError ? "alert" : "status");
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(errorText(data) || response.status + " " + response.statusText);
    return data;
  }

  // The API's one error body: {detail, code, errors: [{where, message}]}; each problem with
  // the field it is about, else the one sentence.
  function errorText(data) {
    const problems = (data.errors || []).map((e) => (e.where ? e.where + ": " : "") + e.message);
    return problems.length ? problems.join("; ") : data.detail || "";
  }

  async function fetchAll(url) {
    const features = [];
    let next = url;
    while (next) {
      const page = await api("GET", next);
      features.push(...(page.features || []));
      next = page.next;
    }
    return features;
  }

  async function openGrid(code) {
    if (code === grid) return;
    grid = code;
    if (outline) outline.remove();
    if (households) households.remove();
    const unit = await api("GET", "/api/units/" + encodeURIComponent(code) + "/");
    outline = geoJSON(unit, { style: { color: "#b3261e", weight: 3, fill: false }, interactive: false }).addTo(map);
    map.fitBounds(outline.getBounds(), { padding: [20, 20] });
    $("grid-name").textContent = (unit.properties && unit.properties.name) || "";
    const points = await fetchAll("/api/households/?grid=" + encodeURIComponent(code) + "&page_size=5000");
    households = geoJSON({ type: "FeatureCollection", features: points }, {
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 2.5, weight: 0, fillColor: "#222", fillOpacity: 0.8, interactive: false }),
    }).addTo(map);
    loadDivisions();
  }

  function draw(data) {
    proposal = data;
    selected = [];
    if (partsLayer) partsLayer.remove();
    partsLayer = geoJSON(data, {
      style: (f) => styleFor(f, false),
      onEachFeature: (f, shape) => {
        const p = f.properties;
        shape.bindTooltip(label("#" + p.number + " · " + p.households + " " + text.households + " · " + p.polsby_popper.toFixed(2)));
        shape.on("click", () => toggle(p.number));
      },
    }).addTo(map);
    partsLayer.eachLayer((shape) => {
      const element = shape.getElement();
      element.setAttribute("data-part", shape.feature.properties.number);
      element.classList.add("proposal-part");
    });
    if (households) households.bringToFront();
    const count = data.features.length;
    $("summary").replaceChildren();
    const line = document.createElement("p");
    line.id = "summary-line";
    line.textContent = count + " " + text.microGrids + " · " + (data.all_in_bounds ? text.allInBounds : text.outOfBounds) +
      " · " + text.meanScore + " " + (data.mean_polsby_popper || 0).toFixed(2) +
      " · " + text.worstScore + " " + (data.worst_polsby_popper || 0).toFixed(2);
    line.className = data.all_in_bounds ? "ok" : "error";
    $("summary").appendChild(line);
    for (const note of data.notes || []) {
      const p = document.createElement("p"); p.className = "hint"; p.textContent = note; $("summary").appendChild(p);
    }
    const body = document.querySelector("#parts tbody");
    body.replaceChildren();
    for (const f of data.features) {
      const p = f.properties;
      const row = document.createElement("tr");
      row.dataset.part = p.number;
      row.className = p.in_bounds ? "" : "out-of-bounds";
      for (const value of ["#" + p.number, p.households, p.polsby_popper.toFixed(2), p.locked ? "🔒" : ""]) {
        const cell = document.createElement("td"); cell.textContent = value; row.appendChild(cell);
      }
      // A row is chosen from the keyboard as with a click: it takes the focus, Enter or
      // Space selects it, and it says whether it is selected.
      row.tabIndex = 0;
      row.setAttribute("aria-selected", "false");
      row.onclick = () => toggle(p.number);
      row.onkeydown = (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(p.number); }
      };
      body.appendChild(row);
    }
    $("parts").hidden = false;
    refreshButtons();
  }

  function styleFor(feature, active) {
    const p = feature.properties;
    const colour = colours[(p.number - 1) % colours.length];
    return {
      color: p.in_bounds ? colour : "#b3261e", weight: active ? 4 : 1.5, dashArray: p.locked ? "6 4" : null,
      fillColor: colour, fillOpacity: active ? 0.55 : 0.3,
    };
  }

  function toggle(number) {
    const at = selected.indexOf(number);
    if (at >= 0) selected.splice(at, 1);
    else { selected.push(number); if (selected.length > 2) selected.shift(); }
    partsLayer.eachLayer((shape) => shape.setStyle(styleFor(shape.feature, selected.includes(shape.feature.properties.number))));
    document.querySelectorAll("#parts tbody tr").forEach((row) => {
      const on = selected.includes(Number(row.dataset.part));
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", String(on));
    });
    refreshButtons();
  }

  function refreshButtons() {
    const has = !!proposal;
    $("merge").disabled = !(has && selected.length === 2);
    $("split").disabled = !(has && selected.length === 1);
    $("lock").disabled = !(has && selected.length === 1);
    $("move-area").disabled = !(has && selected.length === 1);
    $("rerun").disabled = !has;
    $("commit").disabled = !(has && proposal.all_in_bounds);
  }

  async function run(action) {
    say("…");
    try {
      await action();
      if ($("message").textContent === "…") say("");
    } catch (error) { say(error.message, true); }
  }

  function bounds() {
    return { low: Number($("low").value), high: Number($("high").value) };
  }

  async function adjust(operation) {
    const data = await api("POST", "/api/grids/" + encodeURIComponent(grid) + "/microgrids/adjust/", { proposal: proposal, operation: operation });
    draw(data);
  }

  // The picker searches all of the user's grids as they type (a county has thousands; the
  // page itself lists only the first few hundred): a code prefix or part of a name.
  let searchTimer = null;
  let searchSeq = 0;
  $("grid").addEventListener("input", () => {
    clearTimeout(searchTimer);
    const typed = $("grid").value.trim();
    if (!typed) return;
    searchTimer = setTimeout(async () => {
      const seq = ++searchSeq;
      const page = await api("GET", "/api/grids/?level=grid&page_size=20&q=" + encodeURIComponent(typed)).catch(() => null);
      if (!page || seq !== searchSeq) return; // a later keystroke's answer wins
      const list = $("grid-list");
      list.replaceChildren(...(page.features || []).map((f) => {
        const option = document.createElement("option");
        option.value = f.properties.code;
        option.textContent = f.properties.name;
        return option;
      }));
    }, 250);
  });

  $("plan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(async () => {
      await openGrid($("grid").value.trim());
      draw(await api("POST", "/api/grids/" + encodeURIComponent(grid) + "/microgrids/preview/", bounds()));
    });
  });
  $("load-current").onclick = () => run(async () => {
    await openGrid($("grid").value.trim());
    draw(await api("POST", "/api/grids/" + encodeURIComponent(grid) + "/microgrids/preview/", { ...bounds(), start: "current" }));
  });
  $("merge").onclick = () => run(() => adjust({ op: "merge", part: selected[0], other: selected[1] }));
  $("split").onclick = () => run(() => adjust({ op: "split", part: selected[0] }));
  $("lock").onclick = () => run(() => {
    const part = proposal.features[selected[0] - 1].properties;
    return adjust({ op: part.locked ? "unlock" : "lock", part: selected[0] });
  });
  $("rerun").onclick = () => run(() => adjust({ op: "rerun", ...bounds(), seed: (proposal.seed || 0) + 1 }));
  $("move-area").onclick = () => {
    const to = selected[0];
    say(text.drawHint);
    const pen = new L.Draw.Polygon(map, { shapeOptions: { color: "#000" } });
    map.once(L.Draw.Event.CREATED, (event) => run(() => adjust({ op: "move_area", area: drawnToWgs84(event.layer.toGeoJSON().geometry), to: to })));
    pen.enable();
  };
  $("commit").onclick = () => run(async () => {
    if (!window.confirm(text.confirmCommit)) return;
    const division = await api("POST", "/api/grids/" + encodeURIComponent(grid) + "/microgrids/commit/", { proposal: proposal });
    proposal = null;
    if (partsLayer) partsLayer.remove();
    $("parts").hidden = true;
    $("summary").replaceChildren();
    refreshButtons();
    await showCurrent();
    await loadDivisions();
    say(text.committed + " " + division.created.join(", "));
  });

  async function showCurrent() {
    const features = await fetchAll("/api/units/?level=microgrid&parent=" + encodeURIComponent(grid));
    partsLayer = geoJSON({ type: "FeatureCollection", features: features }, {
      style: (f, i) => ({ color: "#6a1b9a", weight: 2, fillColor: "#6a1b9a", fillOpacity: 0.15 }),
      onEachFeature: (f, shape) => shape.bindTooltip(label(f.properties.name + " · " + f.properties.households + " " + text.households)),
    }).addTo(map);
    partsLayer.eachLayer((shape) => {
      const element = shape.getElement();
      element.setAttribute("data-code", shape.feature.properties.code);
      element.classList.add("unit-microgrid");
    });
  }

  async function loadDivisions() {
    const page = await api("GET", "/api/microgrid-divisions/?grid=" + encodeURIComponent(grid));
    const box = $("divisions");
    box.replaceChildren();
    for (const d of page.results.slice(0, 5)) {
      const row = document.createElement("p");
      row.className = "division";
      row.textContent = d.committed_at.slice(0, 16).replace("T", " ") + " · " + d.created.length + " " + text.microGrids + " ";
      if (!d.reverted_at) {
        const button = document.createElement("button");
        button.textContent = text.revert;
        button.dataset.division = d.id;
        button.onclick = () => run(async () => {
          await api("POST", "/api/microgrid-divisions/" + d.id + "/revert/");
          if (partsLayer) partsLayer.remove();
          await showCurrent();
          await loadDivisions();
          say(text.reverted);
        });
        row.appendChild(button);
      }
      box.appendChild(row);
    }
  }

  refreshButtons();
  if ($("grid").value) $("plan-form").requestSubmit();
  window.wanggePlanner = { map: map, drawnToWgs84: drawnToWgs84 };
})();
