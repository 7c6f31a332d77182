// The case desk's list: the page's own query string (the filter form is a plain GET form) is
// asked of /api/cases/, and the rows and the map's markers are built from the answer. Every
// string a person typed is set as text, never parsed as markup; no request leaves the server.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("desk-text").textContent);
  const list = document.getElementById("desk-cases");
  const errorBox = document.getElementById("desk-error");
  const mapElement = document.getElementById("map");
  const map = L.map("map", { zoomControl: true });
  WanggeBasemap.add(map, config); // streets from the server (or the configured tiles), scale bar
  map.setView([32.68, 112.09], 9);
  const colours = { red: "#b3261e", yellow: "#c98a00", none: "#1f6fb2" };
  const FILTERS = ["status", "item", "grid", "card", "overdue", "page"];

  function el(tag, className, value) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (value !== undefined && value !== null) node.textContent = value;
    return node;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }

  function when(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function pageUrl(page) {
    const params = new URLSearchParams(location.search);
    params.set("page", String(page));
    return "?" + params.toString();
  }

  function row(c) {
    const li = el("li", "desk-case card-" + c.card);
    li.dataset.id = String(c.id);
    const head = el("div", "desk-case-head");
    const link = el("a", "desk-case-number", c.number);
    link.href = "/cases/" + c.id + "/";
    head.appendChild(link);
    head.appendChild(el("span", "status status-" + c.status, text.statuses[c.status] || c.status));
    if (c.card !== "none") head.appendChild(el("span", "card-badge card-" + c.card, text.cards[c.card]));
    li.appendChild(head);
    const name = (text.english && c.item.name_en) || c.item.name;
    li.appendChild(el("div", "desk-case-item", c.item.code + " " + name));
    const meta = el("div", "desk-case-meta");
    meta.appendChild(el("span", "", c.grid + (c.micro_grid ? " / " + c.micro_grid : "")));
    meta.appendChild(el("span", "", when(c.created_at)));
    if (c.due_at) {
      const due = el("span", c.overdue ? "overdue" : "", (c.overdue ? text.overdue : text.due) + " " + when(c.due_at) +
        (c.estimated ? " (" + text.estimated + ")" : ""));
      meta.appendChild(due);
    }
    const holder = c.department ? c.department.name : c.assignee;
    if (holder) meta.appendChild(el("span", "", holder));
    li.appendChild(meta);
    if (c.description) li.appendChild(el("div", "desk-case-description", c.description));
    return li;
  }

  function marker(c) {
    if (!c.point) return null;
    const shape = L.circleMarker([c.point[1], c.point[0]], {
      radius: 8, weight: 2, color: "#fff", fillColor: colours[c.card] || colours.none, fillOpacity: 0.95,
    });
    shape.bindTooltip(el("span", "", c.number + " " + (text.statuses[c.status] || c.status)));
    shape.on("click", () => { location.href = "/cases/" + c.id + "/"; });
    return shape;
  }

  function showError(body, status) {
    errorBox.hidden = false;
    errorBox.textContent = (body && body.detail) || String(status);
  }

  async function load() {
    const query = new URLSearchParams(location.search);
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = query.get(name);
      if (value) params.set(name, value);
    }
    params.set("crs", config.crs);
    const response = await fetch("/api/cases/?" + params.toString(), {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      showError(body, response.status);
      return;
    }
    const page = Number(query.get("page") || "1");
    // Past the server's count cap the total is "1,000+" and the last page unknown.
    const shown = body.count.toLocaleString(text.english ? "en" : "zh-CN") + (body.count_exact === false ? "+" : "");
    document.getElementById("desk-count").textContent = format(text.count, { count: shown });
    const pages = Math.max(1, Math.ceil(body.count / 50));
    let pageText = "";
    if (body.count_exact === false) pageText = format(text.page_open, { page: page });
    else if (pages > 1) pageText = format(text.page, { page: page, pages: pages });
    document.getElementById("desk-page").textContent = pageText;
    const prev = document.getElementById("desk-prev");
    const next = document.getElementById("desk-next");
    prev.hidden = !body.previous;
    next.hidden = !body.next;
    if (body.previous) prev.href = pageUrl(page - 1);
    if (body.next) next.href = pageUrl(page + 1);
    document.getElementById("desk-empty").hidden = body.results.length > 0;
    const markers = [];
    for (const c of body.results) list.appendChild(row(c));
    // Red drawn last, on top: where cases pile up on one spot, the late one shows.
    const rank = { none: 0, yellow: 1, red: 2 };
    const drawn = body.results.slice().sort((a, b) => (rank[a.card] || 0) - (rank[b.card] || 0));
    for (const c of drawn) {
      const m = marker(c);
      if (m) markers.push(m);
    }
    if (markers.length) {
      const group = L.featureGroup(markers).addTo(map);
      map.fitBounds(group.getBounds().pad(0.2), { maxZoom: 14 });
      await drawGrids(group);
    }
  }

  // The grids around the listed cases, faint under the markers: with no basemap (an intranet
  // without tiles) they are what tells one place from another.
  async function drawGrids(group) {
    const b = group.getBounds();
    const margin = 0.005;
    const bbox = [b.getWest() - margin, b.getSouth() - margin, b.getEast() + margin, b.getNorth() + margin]
      .map((v) => v.toFixed(6)).join(",");
    const params = new URLSearchParams({ bbox: bbox, crs: config.crs, zoom: String(map.getZoom()), page_size: "200" });
    try {
      const response = await fetch("/api/grids/?" + params.toString(), {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const page = await response.json();
      L.geoJSON(page, {
        interactive: false,
        style: { color: "#2e7d32", weight: 1, fillColor: "#2e7d32", fillOpacity: 0.05 },
      }).addTo(map);
      group.eachLayer((m) => m.bringToFront());
    } catch (e) {
      // The grids are a backdrop: the list and its markers stand without them.
    }
  }

  load()
    .catch((error) => showError(null, error.message))
    .finally(() => mapElement.setAttribute("data-loaded", ""));
})();
