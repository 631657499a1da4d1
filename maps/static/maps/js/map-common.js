/* What every public Convive map shares: a tile background that may fail, and point-in-polygon.
 *
 * Loaded before each page's own map script (the consultation map, the concern form, the walk
 * field page, the walk report) as `window.ConviveMaps`. Kept dependency-free apart from Leaflet.
 */
(function () {
  "use strict";

  // A closed network may drop tile requests without an error: stop waiting after this long.
  var TILE_TIMEOUT_MS = 8000;

  /* Add the configured tile layer as a background only. Until a tile loads — and for good when
   * none does (offline machines, closed networks, a dead tile server) — the canvas gets
   * `plainClass`, which gives it a plain background, and `onPlain(true)` is called so the page
   * can say why there is no street map; the map's own data (boundaries, routes, markers) is
   * vector and draws either way. */
  function addTiles(map, options) {
    var canvas = map.getContainer();
    var plainClass = options.plainClass;
    var onPlain = options.onPlain || function () {};
    var tileLoaded = false;
    function unavailable() {
      if (tileLoaded) { return; }
      canvas.classList.add(plainClass);
      onPlain(true);
    }
    if (!options.url) {
      unavailable();
      return null;
    }
    var tiles = L.tileLayer(options.url, {
      attribution: options.attribution || "",
      maxZoom: options.maxZoom || 19,
      maxNativeZoom: 19,
    });
    tiles.on("tileload", function () {
      tileLoaded = true;
      canvas.classList.remove(plainClass);
      onPlain(false);
    });
    tiles.on("tileerror", unavailable);
    tiles.addTo(map);
    window.setTimeout(unavailable, TILE_TIMEOUT_MS);
    return tiles;
  }

  /* Ray casting over GeoJSON rings: used to tell people at once that a place is outside the area
   * (the server decides). `polygon` is GeoJSON Polygon coordinates: the outer ring, then holes. */
  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function polygonContains(polygon, x, y) {
    if (!ringContains(polygon[0], x, y)) { return false; }
    for (var h = 1; h < polygon.length; h++) {
      if (ringContains(polygon[h], x, y)) { return false; }
    }
    return true;
  }

  /* Whether a GeoJSON Polygon or MultiPolygon geometry contains the point (x = lon, y = lat). */
  function geometryContains(geometry, x, y) {
    if (!geometry) { return false; }
    if (geometry.type === "Polygon") { return polygonContains(geometry.coordinates, x, y); }
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.some(function (p) { return polygonContains(p, x, y); });
    }
    return false;
  }

  window.ConviveMaps = { addTiles: addTiles, geometryContains: geometryContains };
})();
