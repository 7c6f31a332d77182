// Markers that overlap at the map's zoom become one cluster (the vendored
// Leaflet.markercluster): a round badge with its count. A click or Enter zooms in to the
// markers, or at the last zoom spreads them out. The badge is a button named by its label (a
// screen reader hears "12 households at 3 addresses", not "12").
(function () {
  "use strict";

  // A div icon whose element carries a name: markercluster makes the icon, Leaflet makes it a
  // focusable role=button, this gives it its words (as text, never markup).
  const NamedIcon = L.DivIcon.extend({
    createIcon: function (old) {
      const element = L.DivIcon.prototype.createIcon.call(this, old);
      element.setAttribute("aria-label", this.options.label);
      element.title = this.options.label;
      return element;
    },
  });

  // count(markers) -> the number on the badge; label(markers, count) -> its accessible name.
  function group(options) {
    return L.markerClusterGroup({
      maxClusterRadius: options.radius || 40,
      showCoverageOnHover: false,
      // The route's stops and a building's flats come in hundreds, not tens of thousands.
      chunkedLoading: false,
      iconCreateFunction: (cluster) => {
        const markers = cluster.getAllChildMarkers();
        const count = options.count(markers);
        const text = document.createElement("span");
        text.textContent = options.format ? options.format(count) : String(count);
        const size = count >= 1000 ? 48 : count >= 100 ? 42 : 36;
        return new NamedIcon({
          className: "marker-cluster " + (options.className || ""),
          html: text,
          iconSize: [size, size],
          label: options.label(markers, count),
        });
      },
    });
  }

  window.WanggeClusters = { group: group };
})();
