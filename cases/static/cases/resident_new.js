// A resident's new request: category then item, description, photos, and where (my home or a
// point tapped on the map), posted to /api/cases/ as multipart. The API's refusals are shown
// next to the fields they name (errors[].where). Every text from the server goes in with
// textContent: no markup is built from data.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("map-config").textContent);
  const page = JSON.parse($("request-page").textContent);
  const text = JSON.parse($("request-text").textContent);
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  const form = $("request-form");
  const MAX_PHOTOS = Number(($("photos").getAttribute("data-max")) || 6);

  // --- category, then item -----------------------------------------------------------------
  const itemSelect = $("item");
  const allItems = Array.from(itemSelect.querySelectorAll("option[data-category]"));
  const placeholder = itemSelect.querySelector("option:not([data-category])");
  function showItems() {
    const category = $("category").value;
    itemSelect.replaceChildren(placeholder);
    for (const option of allItems) {
      if (option.getAttribute("data-category") === category) itemSelect.appendChild(option);
    }
    itemSelect.value = "";
    itemSelect.disabled = !category;
    if (category) itemSelect.focus();
  }
  $("category").addEventListener("change", showItems);
  showItems();

  // --- where: my home or a tapped point ----------------------------------------------------
  // The map draws in the basemap's CRS (config.crs: GCJ-02 for most Chinese tiles); the server
  // sent the grid and the home already in it, and the tapped point goes to the API with that
  // `crs`, so no position is converted here.
  const map = L.map("request-map", {});
  WanggeBasemap.add(map, config); // streets from the server (or the configured tiles), scale bar
  let area = null;
  if (page.area && page.area.rings.length) {
    area = L.polygon(page.area.rings, { color: "#2e7d32", weight: 2, fillOpacity: 0.05, interactive: false }).addTo(map);
    map.fitBounds(area.getBounds(), { padding: [8, 8] });
  } else {
    map.setView([32.68, 112.09], 12);
  }
  const markerStyle = { radius: 10, color: "#b3261e", weight: 3, fillColor: "#b3261e", fillOpacity: 0.5 };
  const homeMarker = page.home ? L.circleMarker(page.home, { ...markerStyle, color: "#1d4ed8", fillColor: "#1d4ed8" }) : null;
  let chosen = null; // [lat, lng] in the map's CRS
  let chosenMarker = null;

  function whereMode() {
    const checked = form.querySelector("input[name=where]:checked");
    return checked ? checked.value : "map";
  }
  function showWhere() {
    const home = whereMode() === "home";
    $("request-map").classList.toggle("dimmed", home);
    if (homeMarker) {
      if (home) {
        homeMarker.addTo(map);
        map.setView(page.home, Math.max(map.getZoom(), 15));
      } else homeMarker.remove();
    }
    if (chosenMarker) chosenMarker.setStyle({ opacity: home ? 0 : 1, fillOpacity: home ? 0 : 0.5 });
    $("where-hint").textContent = home ? text.home : chosen ? text.tapped : text.pickPoint;
  }
  for (const radio of form.querySelectorAll("input[name=where]")) radio.addEventListener("change", showWhere);
  map.on("click", (event) => {
    const mapRadio = form.querySelector("input[name=where][value=map]");
    if (mapRadio) mapRadio.checked = true;
    chosen = [event.latlng.lat, event.latlng.lng];
    if (chosenMarker) chosenMarker.setLatLng(event.latlng);
    else chosenMarker = L.circleMarker(event.latlng, markerStyle).addTo(map);
    $("request-map").setAttribute("data-chosen", "1");
    clearError("where");
    showWhere();
  });
  showWhere();
  // For the browser tests (as window.wanggeField on the field page): the map and the point.
  window.wanggeRequest = { map, chosen: () => chosen };

  // --- errors next to the fields -----------------------------------------------------------
  // The API's `where` names its field; the place fields all show under "Where".
  const FIELD_OF = { location: "where", lon: "where", lat: "where", crs: "where", household: "where", point: "where" };
  function errorSlot(where) {
    const field = FIELD_OF[where] || where;
    return form.querySelector('[data-error-for="' + field + '"]');
  }
  function clearError(field) {
    const slot = errorSlot(field);
    if (slot) slot.textContent = "";
  }
  function clearErrors() {
    for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
    $("form-error").hidden = true;
    $("form-error").textContent = "";
  }
  function showError(where, message) {
    const slot = errorSlot(where);
    if (slot) {
      slot.textContent = slot.textContent ? slot.textContent + " " + message : message;
      return true;
    }
    return false;
  }
  function showGeneral(message) {
    $("form-error").textContent = message;
    $("form-error").hidden = false;
  }

  // --- sending -----------------------------------------------------------------------------
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    let ok = true;
    const refuse = (field, message) => { showError(field, message); ok = false; };
    if (!itemSelect.value) refuse("item", text.pickItem);
    const files = Array.from($("photos").files || []);
    if (files.length > MAX_PHOTOS) refuse("photos", text.tooMany);
    const home = whereMode() === "home";
    if (!home && !chosen) refuse("where", text.pickPoint);
    if (!ok) {
      showGeneral(text.failed);
      return;
    }
    const body = new FormData();
    body.append("item", itemSelect.value);
    body.append("description", $("description").value);
    for (const file of files) body.append("photos", file, file.name);
    if (home) body.append("household", String(page.household));
    else {
      body.append("lon", chosen[1].toFixed(7));
      body.append("lat", chosen[0].toFixed(7));
      body.append("crs", page.crs);
    }
    const button = $("send");
    button.disabled = true;
    const label = button.textContent;
    button.textContent = text.sending;
    try {
      const response = await fetch(page.api, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf() },
      });
      if (response.ok) {
        const created = await response.json();
        window.location.assign(page.done + "#case-" + encodeURIComponent(String(created.id)));
        return;
      }
      let answer = null;
      try { answer = await response.json(); } catch (error) { answer = null; }
      const problems = (answer && Array.isArray(answer.errors)) ? answer.errors : [];
      let placed = false;
      for (const problem of problems) placed = showError(String(problem.where || ""), String(problem.message || "")) || placed;
      showGeneral(placed ? text.failed : (answer && answer.detail ? String(answer.detail) : text.failed));
    } catch (error) {
      showGeneral(text.network);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  });
})();
