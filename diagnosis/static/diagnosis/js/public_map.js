/* Public map of a consultation: what residents reported in the current view.
 *
 * Data come from the consultation's features endpoint for the visible bbox only (never all points
 * in the page). The server applies the data rules; this file only draws what it gets:
 * cells as circles (concerns) and squares (assets) with their counts, fuzzed markers when zoomed in,
 * and the same numbers as a table beside the map. Works without tiles: boundaries are vectors and a
 * plain background with a notice replaces a tile server that cannot be reached.
 */
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  };

  var section = document.querySelector("[data-public-map]");
  var configNode = document.getElementById("public-map-config");
  if (!section || !configNode || !window.L || !window.fetch) {
    return; // The server-rendered table below stays the whole story.
  }
  var config = JSON.parse(configNode.textContent);
  section.hidden = false;

  var canvas = document.getElementById("public-map-canvas");
  var notice = section.querySelector("[data-public-map-notice]");
  var statusLine = section.querySelector("[data-public-map-status]");
  var listBody = section.querySelector("[data-public-map-list] tbody");
  var filterForm = section.querySelector("[data-public-map-filter]");
  var DEBOUNCE_MS = 250;
  var MAX_SPAN_DEGREES = 5;

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  var map = L.map(canvas, {
    keyboard: true,
    minZoom: 11,
    maxZoom: 19,
    zoomSnap: 1,
  });
  // Exposed for end-to-end tests and for people debugging the page; not an API.
  canvas.leafletMap = map;
  if (config.extent) {
    var e = config.extent; // [west, south, east, north]
    map.fitBounds([[e[1], e[0]], [e[3], e[2]]], { padding: [12, 12] });
  } else {
    map.setView([4.65, -74.06], 13);
  }

  // --- Background tiles, and what happens when the tile server cannot be reached. ---------------
  ConviveMaps.addTiles(map, {
    url: canvas.dataset.tileUrl,
    attribution: canvas.dataset.tileAttribution,
    plainClass: "public-map__canvas--plain",
    onPlain: function (plain) { notice.hidden = !plain; },
  });

  // --- Area boundaries (vector, so they show without tiles). ------------------------------------
  map.createPane("areas");
  map.getPane("areas").style.zIndex = 350;
  // Area names sit under the report marks: a label must never hide a count.
  map.createPane("areaLabels");
  map.getPane("areaLabels").style.zIndex = 450;
  map.getPane("areaLabels").style.pointerEvents = "none";
  fetch(config.areasUrl, { headers: { Accept: "application/geo+json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data) return;
      L.geoJSON(data, {
        pane: "areas",
        interactive: false,
        style: { color: "#0b5d73", weight: 2, fillColor: "#0b5d73", fillOpacity: 0.05 },
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(escapeHtml(feature.properties.name), {
            permanent: true,
            direction: "center",
            className: "area-label",
            pane: "areaLabels",
          });
        },
      }).addTo(map);
    })
    .catch(function () { /* The data layer and table still work without boundaries. */ });

  function toggleAreaLabels() {
    canvas.classList.toggle("public-map__canvas--far", map.getZoom() < 14);
  }
  map.on("zoomend", toggleAreaLabels);
  toggleAreaLabels();

  // --- Reports in view. ------------------------------------------------------------------------
  var reports = L.layerGroup().addTo(map);
  var controller = null;
  var timer = null;

  function checkedCategories() {
    if (!filterForm) return { all: true, values: [] };
    var boxes = Array.prototype.slice.call(filterForm.querySelectorAll("input[name=category]"));
    var values = boxes.filter(function (box) { return box.checked; })
      .map(function (box) { return box.value; });
    return { all: values.length === boxes.length, values: values };
  }

  function viewBbox() {
    var bounds = map.getBounds();
    var centre = bounds.getCenter();
    var half = MAX_SPAN_DEGREES / 2 - 0.01;
    var west = Math.max(bounds.getWest(), centre.lng - half, -180);
    var east = Math.min(bounds.getEast(), centre.lng + half, 180);
    var south = Math.max(bounds.getSouth(), centre.lat - half, -85);
    var north = Math.min(bounds.getNorth(), centre.lat + half, 85);
    return [west, south, east, north].map(function (v) { return v.toFixed(5); }).join(",");
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, DEBOUNCE_MS);
  }

  function load() {
    if (controller) controller.abort(); // A newer view makes the pending answer useless.
    var categories = checkedCategories();
    if (!categories.all && categories.values.length === 0) {
      render({
        features: [],
        meta: { mode: "cells", categories: [], area_counts: [], sensitive_area_totals: [] },
      });
      statusLine.textContent = gettext("No category is selected.");
      return;
    }
    var params = new URLSearchParams({ bbox: viewBbox(), zoom: String(map.getZoom()) });
    if (!categories.all) {
      categories.values.forEach(function (value) { params.append("category", value); });
    }
    controller = window.AbortController ? new AbortController() : null;
    section.setAttribute("aria-busy", "true");
    fetch(config.featuresUrl + "?" + params.toString(), {
      headers: { Accept: "application/geo+json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        section.removeAttribute("aria-busy");
        render(data);
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        section.removeAttribute("aria-busy");
        statusLine.textContent = gettext(
          "The reports for this view could not be loaded. Move the map to try again."
        );
      });
  }

  function markIcon(kind, count, size, anchorX) {
    var label = count === null ? "" : String(count);
    return L.divIcon({
      className: "map-mark-wrap",
      html: '<span class="map-mark map-mark--' + kind + '" style="width:' + size + "px;height:" +
        size + "px;line-height:" + size + 'px">' + label + "</span>",
      iconSize: [size, size],
      iconAnchor: [anchorX, size / 2],
    });
  }

  function kindOf(category) {
    return category && category.kind === "asset" ? "asset" : "risk";
  }

  // Each feature carries [category index, count] pairs; the categories are listed once in meta.
  function expand(pairs, categories) {
    return (pairs || []).map(function (pair) {
      var category = categories[pair[0]] || {};
      return { name: category.name, kind: kindOf(category), count: pair[1] };
    });
  }

  function describe(kind, total, items) {
    var head = kind === "asset"
      ? interpolate(ngettext("%(n)s asset", "%(n)s assets", total), { n: total }, true)
      : interpolate(ngettext("%(n)s concern", "%(n)s concerns", total), { n: total }, true);
    return head + ": " + items.map(function (item) {
      return item.name + " (" + item.count + ")";
    }).join(", ");
  }

  function popupHtml(kind, total, items) {
    var title = kind === "asset"
      ? ngettext("Asset residents mapped", "Assets residents mapped", total)
      : ngettext("Concern residents reported", "Concerns residents reported", total);
    return "<strong>" + escapeHtml(title) + "</strong><ul class=\"map-popup\">" +
      items.map(function (item) {
        return "<li>" + escapeHtml(item.name) + ": " + item.count + "</li>";
      }).join("") + "</ul>";
  }

  function addMark(latlng, kind, total, items, options) {
    var text = describe(kind, total, items);
    var marker = L.marker(latlng, {
      icon: markIcon(kind, options.single ? null : total, options.size, options.anchorX),
      title: text,
      alt: text,
      keyboard: true,
      riseOnHover: true,
    });
    marker.bindPopup(popupHtml(kind, total, items));
    reports.addLayer(marker);
  }

  function render(data) {
    reports.clearLayers();
    var totals = { risk: 0, asset: 0 };
    var meta = data.meta;
    var categories = meta.categories || [];
    data.features.forEach(function (feature) {
      var c = feature.geometry.coordinates;
      var latlng = [c[1], c[0]];
      var items = expand(feature.properties.counts, categories);
      if (meta.mode === "points") {
        items.forEach(function (item) {
          totals[item.kind] += item.count;
          addMark(latlng, item.kind, 1, [{ name: item.name, count: 1 }],
            { single: true, size: 18, anchorX: 9 });
        });
        return;
      }
      // One mark per cell and kind: concerns as a circle, assets as a square beside it.
      var byKind = { risk: [], asset: [] };
      items.forEach(function (item) {
        byKind[item.kind].push(item);
        totals[item.kind] += item.count;
      });
      var both = byKind.risk.length && byKind.asset.length;
      ["risk", "asset"].forEach(function (kind) {
        var kindItems = byKind[kind];
        if (!kindItems.length) return;
        var total = kindItems.reduce(function (sum, item) { return sum + item.count; }, 0);
        var size = Math.min(44, Math.round(16 + 4 * Math.sqrt(total)));
        var anchorX = size / 2;
        if (both) anchorX = kind === "risk" ? size - 2 : -2;
        addMark(latlng, kind, total, kindItems, { size: size, anchorX: anchorX });
      });
    });
    renderList(meta, totals);
  }

  function renderList(meta, totals) {
    var summary = interpolate(
      gettext("In this view: %(concerns)s and %(assets)s."),
      {
        concerns: interpolate(
          ngettext("%(n)s concern", "%(n)s concerns", totals.risk), { n: totals.risk }, true
        ),
        assets: interpolate(
          ngettext("%(n)s asset", "%(n)s assets", totals.asset), { n: totals.asset }, true
        ),
      },
      true
    );
    if (meta.mode !== "points" && map.getZoom() < config.pointsMinZoom) {
      summary += " " + gettext("Zoom in to see each report at an approximate place.");
    }
    statusLine.textContent = summary;

    var categories = meta.categories || [];
    function areaRows(list, sensitive) {
      var rows = [];
      (list || []).forEach(function (area) {
        expand(area.counts, categories).forEach(function (item) {
          rows.push({
            name: item.name, kind: item.kind, area: area.area, count: item.count,
            sensitive: sensitive,
          });
        });
      });
      return rows;
    }
    var rows = areaRows(meta.area_counts, false).concat(areaRows(meta.sensitive_area_totals, true));
    rows.sort(function (a, b) {
      return a.area.localeCompare(b.area) || (a.kind === b.kind ? 0 : a.kind === "asset" ? 1 : -1) ||
        a.name.localeCompare(b.name);
    });
    listBody.textContent = "";
    if (!rows.length) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 3;
      cell.textContent = gettext("No approved reports in the areas in view.");
      empty.appendChild(cell);
      listBody.appendChild(empty);
      return;
    }
    // Grouped by area: the area is a row header spanning its categories.
    var groupStart = 0;
    rows.forEach(function (row, index) {
      var tr = document.createElement("tr");
      if (index === 0 || rows[index - 1].area !== row.area) {
        groupStart = index;
        var span = 1;
        while (groupStart + span < rows.length && rows[groupStart + span].area === row.area) span++;
        var area = document.createElement("th");
        area.scope = "rowgroup";
        area.rowSpan = span;
        area.textContent = row.area;
        tr.appendChild(area);
      }
      var name = document.createElement("td");
      var shape = document.createElement("span");
      shape.className = "legend-shape legend-shape--" + (row.kind === "asset" ? "asset" : "risk");
      shape.setAttribute("aria-hidden", "true");
      name.appendChild(shape);
      name.appendChild(document.createTextNode(row.name));
      if (row.kind === "asset" || row.sensitive) {
        var tag = document.createElement("span");
        tag.className = "kind-tag";
        tag.textContent = row.sensitive ? gettext("area total") : gettext("asset");
        name.appendChild(document.createTextNode(" "));
        name.appendChild(tag);
      }
      var count = document.createElement("td");
      count.className = "num";
      count.textContent = String(row.count);
      tr.appendChild(name);
      tr.appendChild(count);
      listBody.appendChild(tr);
    });
  }

  map.on("moveend", schedule);
  if (filterForm) {
    filterForm.addEventListener("change", schedule);
    filterForm.addEventListener("submit", function (event) { event.preventDefault(); load(); });
  }
  load();
})();
