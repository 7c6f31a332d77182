// The basemap under every map page (territory map, planner, field page): the server's own vector
// tiles (/tiles/{z}/{x}/{y}.mvt, made in PostGIS or read from an offline MBTiles/PMTiles package),
// drawn on canvas by the vendored protomaps-leaflet with the style below, zh labels and street
// names; or, when WANGGE_BASEMAP_URL names an intranet raster tile service, that service. Plus a
// metric scale bar. No request leaves the server.
(function () {
  "use strict";
  const TILES = "/tiles/{z}/{x}/{y}.mvt";
  const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  const kind = (...kinds) => (z, f) => kinds.includes(f.props.kind);
  const not = (...kinds) => (z, f) => !kinds.includes(f.props.kind);
  const MAIN = ["motorway", "trunk", "primary"];
  const MIDDLE = ["secondary", "tertiary"];
  const PATHS = ["footway", "path", "cycleway", "steps", "track", "pedestrian"];
  const MINOR_NOT = MAIN.concat(MIDDLE, PATHS);

  // Widths in pixels by zoom, interpolated (protomaps' exp: base, [[zoom, width], ...]).
  function width(stops) {
    return (z) => {
      if (z <= stops[0][0]) return stops[0][1];
      for (let i = 1; i < stops.length; i++) {
        if (z <= stops[i][0]) {
          const [z0, w0] = stops[i - 1];
          const [z1, w1] = stops[i];
          return w0 + ((w1 - w0) * (z - z0)) / (z1 - z0);
        }
      }
      return stops[stops.length - 1][1];
    };
  }
  const mainW = width([[8, 1.2], [12, 3], [15, 9], [18, 26]]);
  const midW = width([[10, 0.8], [12, 2], [15, 7], [18, 22]]);
  const minorW = width([[12, 0.6], [14, 2.5], [16, 7], [18, 18]]);
  const casing = (w) => (z) => w(z) + (z >= 13 ? 2 : 1);

  function paintRules(P) {
    const line = (options) => new P.LineSymbolizer(Object.assign({ lineCap: "round", lineJoin: "round" }, options));
    return [
      { dataLayer: "landuse", symbolizer: new P.PolygonSymbolizer({ fill: "#eef0d5" }), filter: kind("farmland", "meadow", "orchard") },
      { dataLayer: "landuse", symbolizer: new P.PolygonSymbolizer({ fill: "#ebe7e1" }), filter: kind("residential") },
      { dataLayer: "landuse", symbolizer: new P.PolygonSymbolizer({ fill: "#ead7d2" }), filter: kind("commercial", "retail") },
      { dataLayer: "landuse", symbolizer: new P.PolygonSymbolizer({ fill: "#e9dfe6" }), filter: kind("industrial") },
      { dataLayer: "landuse", symbolizer: new P.PolygonSymbolizer({ fill: "#c8e3b2" }), filter: kind("park", "grass", "wood", "forest", "cemetery") },
      // Lakes and riverbanks only: a canvas fill of a river's line would close it into a crescent.
      { dataLayer: "water", symbolizer: new P.PolygonSymbolizer({ fill: "#aad3df" }), filter: (z, f) => f.geomType === P.GeomType.Polygon },
      { dataLayer: "water", symbolizer: line({ color: "#aad3df", width: width([[7, 1], [12, 3], [15, 8], [18, 20]]) }), filter: (z, f) => f.geomType === P.GeomType.Line && kind("river", "canal")(z, f) },
      { dataLayer: "water", symbolizer: line({ color: "#aad3df", width: width([[12, 0.5], [16, 3]]) }), filter: (z, f) => f.geomType === P.GeomType.Line && not("river", "canal")(z, f) },
      { dataLayer: "buildings", symbolizer: new P.PolygonSymbolizer({ fill: "#d9d0c9", stroke: "#bfb2a6", width: 0.8 }) },
      { dataLayer: "roads", symbolizer: line({ color: "#fa8072", width: 1.2, dash: [3, 2] }), filter: kind(...PATHS) },
      { dataLayer: "roads", symbolizer: line({ color: "#c3bcb3", width: casing(minorW) }), filter: not(...MINOR_NOT), minzoom: 14 },
      { dataLayer: "roads", symbolizer: line({ color: "#c7b18a", width: casing(midW) }), filter: kind(...MIDDLE), minzoom: 12 },
      { dataLayer: "roads", symbolizer: line({ color: "#c0834a", width: casing(mainW) }), filter: kind(...MAIN), minzoom: 11 },
      { dataLayer: "roads", symbolizer: line({ color: "#ffffff", width: minorW }), filter: not(...MINOR_NOT) },
      { dataLayer: "roads", symbolizer: line({ color: "#f7f4bf", width: midW }), filter: kind(...MIDDLE) },
      { dataLayer: "roads", symbolizer: line({ color: "#fcd6a4", width: mainW }), filter: kind(...MAIN) },
    ];
  }

  function labelRules(P) {
    const text = (options) => Object.assign({ labelProps: ["name:zh", "name"], fontFamily: FONT, stroke: "#ffffff", width: 3 }, options);
    return [
      { dataLayer: "places", symbolizer: new P.CenteredTextSymbolizer(text({ fill: "#222", fontSize: 18, fontWeight: 700 })), filter: kind("city") },
      { dataLayer: "places", symbolizer: new P.CenteredTextSymbolizer(text({ fill: "#333", fontSize: 15, fontWeight: 600 })), filter: kind("town", "suburb") },
      { dataLayer: "places", symbolizer: new P.CenteredTextSymbolizer(text({ fill: "#444", fontSize: 13 })), filter: kind("village") },
      { dataLayer: "places", symbolizer: new P.CenteredTextSymbolizer(text({ fill: "#555", fontSize: 12 })), filter: not("city", "town", "suburb", "village") },
      { dataLayer: "roads", symbolizer: new P.LineLabelSymbolizer(text({ fill: "#3a3a3a", fontSize: 13, repeatDistance: 400 })), minzoom: 13 },
      { dataLayer: "water", symbolizer: new P.LineLabelSymbolizer(text({ fill: "#2a6f97", fontSize: 13, fontStyle: "italic" })), minzoom: 11 },
      { dataLayer: "pois", symbolizer: new P.OffsetTextSymbolizer(text({ fill: "#7a4b2a", fontSize: 12, offsetY: 6 })), minzoom: 15 },
      { dataLayer: "pois", symbolizer: new P.CircleSymbolizer({ radius: 3, fill: "#b3541e", stroke: "#ffffff", width: 1 }), minzoom: 15 },
    ];
  }

  function add(map, config) {
    L.control.scale({ metric: true, imperial: false, maxWidth: 120 }).addTo(map);
    // The data's credit stays; Leaflet's own link goes: a 14 px link is no target for a finger.
    if (map.attributionControl) map.attributionControl.setPrefix(false);
    if (config && config.basemapUrl) {
      return L.tileLayer(config.basemapUrl, { attribution: config.basemapAttribution, maxZoom: 19 }).addTo(map);
    }
    if (!window.protomapsL) return null; // the boundaries alone still work
    const layer = protomapsL.leafletLayer({
      url: TILES,
      maxDataZoom: 16, // deeper zooms draw the z16 tile larger (it carries everything)
      paintRules: paintRules(protomapsL),
      labelRules: labelRules(protomapsL),
      backgroundColor: "#f2efe9",
      attribution: (config && config.basemapAttribution) || "© OpenStreetMap",
      maxZoom: 19,
    });
    layer.addTo(map);
    // Under the boundaries and households: those are panes of their own above the tile pane.
    return layer;
  }

  window.WanggeBasemap = { add: add, TILES: TILES };
})();
