/* The results page's two maps, drawn from the page's map/ route (`cms.results.results_map_data`):
 * area polygons, and 150 m grid squares sent as [cell_x, cell_y, count or null, flags] whose
 * outlines are built here with the Web Mercator grid of maps/geometry.py (never a point). Without
 * JavaScript or Leaflet, or if the data cannot be fetched, the maps stay hidden and the tables on
 * the page tell the same. Tiles are only a background: boundaries and squares are vectors.
 */
(function () {
  "use strict";
  var section = document.querySelector("[data-results-map-url]");
  if (!section || !window.L || !window.fetch) { return; }
  var SHADES = ["#e8f1f4", "#b5d3dd", "#6fa9bc", "#2f7c95", "#0b4f63"];
  // Flags of a square, as in cms/results.py.
  var SIGNIFICANT = 1, ASSET = 2, CATEGORY_SHIFT = 2;
  var EARTH_RADIUS = 6378137.0;
  var cellMetres = parseFloat(section.dataset.cellMetres) || 150;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  // maps.geometry.from_mercator: Web Mercator metres to [lat, lng] for Leaflet.
  function fromMercator(x, y) {
    var lng = x / EARTH_RADIUS * 180 / Math.PI;
    var lat = (2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) * 180 / Math.PI;
    return [lat, lng];
  }

  // maps.geometry.cell_polygon_coords at level 0.
  function cellOutline(cx, cy) {
    return [
      fromMercator(cx * cellMetres, cy * cellMetres),
      fromMercator((cx + 1) * cellMetres, cy * cellMetres),
      fromMercator((cx + 1) * cellMetres, (cy + 1) * cellMetres),
      fromMercator(cx * cellMetres, (cy + 1) * cellMetres),
    ];
  }

  function makeMap(canvas, layer) {
    canvas.parentNode.hidden = false;
    var map = L.map(canvas, { keyboard: true, zoomSnap: 1, scrollWheelZoom: false });
    canvas.leafletMap = map;
    var notice = document.querySelector("[data-results-map-notice]");
    ConviveMaps.addTiles(map, {
      url: canvas.dataset.tileUrl,
      attribution: canvas.dataset.tileAttribution,
      plainClass: "results-map__canvas--plain",
      onPlain: function (plain) { if (notice) { notice.hidden = !plain; } },
    });
    layer.addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); }
    return map;
  }

  function drawAreas(data) {
    var canvas = document.getElementById("results-map-areas");
    if (!canvas || !data.areas || !data.areas.features.length) { return; }
    var areas = L.geoJSON(data.areas, {
      style: function (feature) {
        var p = feature.properties;
        if (p.hidden || p.shade === null) {
          return { color: "#4a545c", weight: 1, fillColor: "#b0b8bd", fillOpacity: 0.6, dashArray: "4 3" };
        }
        return { color: "#0b5d73", weight: 1.5, fillColor: SHADES[p.shade], fillOpacity: 0.8 };
      },
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(escapeHtml(feature.properties.name + ": " + feature.properties.text));
      },
    });
    makeMap(canvas, areas);
  }

  function cellText(data, cell) {
    var count = cell[2] === null ? data.fewer : numbers.format(cell[2]);
    if (cell[3] & ASSET) { return data.categories[cell[3] >> CATEGORY_SHIFT] + ": " + count; }
    return count;
  }

  function cellStyle(flags) {
    if (flags & ASSET) { return { color: "#1b6e3a", weight: 1, fillColor: "#9ed3a8", fillOpacity: 0.7 }; }
    var significant = (flags & SIGNIFICANT) !== 0;
    return {
      color: significant ? "#7a2e00" : "#c98a55",
      weight: significant ? 3 : 1,
      fillColor: "#f0c9a6",
      fillOpacity: 0.5,
    };
  }

  function drawCells(data) {
    var canvas = document.getElementById("results-map-cells");
    if (!canvas || !data.cells || !data.cells.length) { return; }
    var group = L.featureGroup();
    var renderer = L.canvas({ padding: 0.5 });
    L.geoJSON(data.areas, { interactive: false, style: { color: "#0b5d73", weight: 1, fillOpacity: 0 } }).addTo(group);
    data.cells.forEach(function (cell) {
      var options = cellStyle(cell[3]);
      options.renderer = renderer;
      L.polygon(cellOutline(cell[0], cell[1]), options)
        .bindTooltip(escapeHtml(cellText(data, cell)))
        .addTo(group);
    });
    makeMap(canvas, group);
  }

  fetch(section.dataset.resultsMapUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("map data: " + response.status); }
      return response.json();
    })
    .then(function (data) {
      drawAreas(data);
      drawCells(data);
    })
    .catch(function () { /* the tables tell the same */ });
})();
