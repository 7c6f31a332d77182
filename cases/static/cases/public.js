// The public disclosure's map: the grids shaded by their number of published cases
// (a choropleth). Polygons only, never a point: the public sees no place finer than a grid.
// Everything comes from this server; names are set as text, never parsed as markup.
(function () {
  "use strict";
  const box = document.getElementById("public-map");
  if (!box) return;
  const config = JSON.parse(document.getElementById("map-config").textContent);
  const text = JSON.parse(document.getElementById("public-text").textContent);
  const map = L.map(box, { zoomControl: true, attributionControl: !!config.basemapUrl });
  if (config.basemapUrl) {
    L.tileLayer(config.basemapUrl, { attribution: config.basemapAttribution, maxZoom: 18 }).addTo(map);
  }
  map.setView([32.68, 112.09], 9);

  // Five classes, light to dark; the first is "none".
  const shades = ["#f1f5f9", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];

  function classes(max) {
    // Upper bounds of the classes above zero, rising with the largest count.
    if (max <= 4) return [1, 2, 3, 4].slice(0, Math.max(max, 1));
    const step = Math.ceil(max / 4);
    return [step, 2 * step, 3 * step, max];
  }

  // With fewer classes than shades, the darkest ones are used: the largest count is always
  // the darkest, however small it is.
  function shadeAt(i, bounds) {
    return shades[shades.length - bounds.length + i];
  }

  function shadeOf(count, bounds) {
    if (!count) return shades[0];
    for (let i = 0; i < bounds.length; i++) if (count <= bounds[i]) return shadeAt(i, bounds);
    return shades[shades.length - 1];
  }

  function label(value) {
    const span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  function legend(bounds) {
    const holder = document.getElementById("public-legend");
    holder.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = text.legend;
    holder.appendChild(title);
    let low = 0;
    [[0, 0], ...bounds.map((b) => [low + 1, (low = b)])].forEach(([a, b], i) => {
      const item = document.createElement("span");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = i === 0 ? shades[0] : shadeAt(i - 1, bounds);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(a === b ? String(a) : a + "–" + b));
      holder.appendChild(item);
    });
  }

  fetch(box.dataset.gridsUrl + "?crs=" + encodeURIComponent(config.crs), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
    .then((data) => {
      const max = Math.max(0, ...data.features.map((f) => f.properties.cases));
      const bounds = classes(max);
      const layer = L.geoJSON(data, {
        style: (f) => ({ color: "#4a5a6a", weight: 1, fillColor: shadeOf(f.properties.cases, bounds), fillOpacity: 0.75 }),
        onEachFeature: (feature, shape) => {
          shape.bindTooltip(label(feature.properties.name + ": " + feature.properties.cases + " " + text.cases));
        },
      }).addTo(map);
      layer.eachLayer((shape) => {
        const element = shape.getElement();
        element.setAttribute("data-grid", shape.feature.properties.code);
        element.setAttribute("data-cases", String(shape.feature.properties.cases));
        element.classList.add("public-grid");
      });
      if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      legend(bounds);
      box.dataset.loaded = String(data.features.length);
    })
    .catch(() => { box.dataset.loaded = "error"; });
})();
