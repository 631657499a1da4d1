/* Map of a safety walk's report: the route and its approved stops, coloured by how safe people
 * felt or by one condition's score.
 *
 * The stops come from the report's GeoJSON export (the same file people download), never
 * embedded in the page; the server already placed them at their public points. Without a tile
 * server the route and the stops are still drawn on a plain background. Colour is never the only
 * cue: each mark carries the stop's number, feeling marks have a shape per feeling, and the table
 * below the map holds everything the map shows.
 */
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  };

  var section = document.querySelector("[data-walk-map]");
  var configNode = document.getElementById("walk-map-config");
  if (!section || !configNode || !window.L || !window.fetch) {
    return; // The table of stops stays the whole story.
  }
  var config = JSON.parse(configNode.textContent);
  section.hidden = false;

  var canvas = document.getElementById("walk-map-canvas");
  var notice = section.querySelector("[data-walk-map-notice]");
  var statusLine = section.querySelector("[data-walk-map-status]");
  var legend = section.querySelector("[data-walk-map-legend]");
  var select = section.querySelector("[data-walk-map-colour]");

  // Feeling: green, amber, dark red, with a shape each. Scores 0–3: a sequential scale from
  // dark red (poor) to green (good); not observed in grey.
  var FEELING_STYLE = {
    comfortable: { colour: "#1b6e3a", shape: "circle" },
    uncomfortable: { colour: "#b45f06", shape: "square" },
    frightening: { colour: "#8f1d21", shape: "diamond" },
  };
  var SCORE_COLOURS = ["#8f1d21", "#d0632a", "#7fa650", "#1b6e3a"];
  var NOT_OBSERVED = "#8a9197";

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  var map = L.map(canvas, { keyboard: true, maxZoom: 19, zoomSnap: 1 });
  canvas.leafletMap = map; // for end-to-end tests; not an API
  map.setView([4.65, -74.06], 15);

  ConviveMaps.addTiles(map, {
    url: canvas.dataset.tileUrl,
    attribution: canvas.dataset.tileAttribution,
    plainClass: "walk-map__canvas--plain",
    onPlain: function (plain) { notice.hidden = !plain; },
  });

  var labels = {};
  config.parameters.forEach(function (p) { labels[p.field] = p.label; });
  var feelingLabels = {};
  config.feelings.forEach(function (f) { feelingLabels[f.value] = f.label; });

  var stopsLayer = L.layerGroup().addTo(map);
  var features = [];

  function colourFor(properties, mode) {
    if (mode === "feeling") {
      return (FEELING_STYLE[properties.feeling] || FEELING_STYLE.uncomfortable).colour;
    }
    var score = properties[mode];
    return score === null || score === undefined ? NOT_OBSERVED : SCORE_COLOURS[score];
  }

  function shapeFor(properties, mode) {
    if (mode !== "feeling") return "circle";
    return (FEELING_STYLE[properties.feeling] || FEELING_STYLE.uncomfortable).shape;
  }

  function describe(properties) {
    var parts = [
      interpolate(gettext("Stop %(n)s"), { n: properties.order }, true),
      feelingLabels[properties.feeling] || properties.feeling,
    ];
    return parts.join(": ");
  }

  function popupHtml(properties) {
    var rows = config.parameters.map(function (p) {
      var value = properties[p.field];
      return "<tr><th scope=\"row\">" + escapeHtml(p.label) + "</th><td>" +
        (value === null || value === undefined ? escapeHtml(gettext("not observed")) : value) +
        "</td></tr>";
    }).join("");
    var hazards = (properties.hazards || []).map(function (code) {
      return escapeHtml(config.hazards[code] || code);
    }).join("; ");
    return "<strong>" + escapeHtml(describe(properties)) + "</strong>" +
      "<table class=\"walk-popup\">" + rows + "</table>" +
      (hazards ? "<p>" + hazards + "</p>" : "") +
      (properties.notes ? "<p>" + escapeHtml(properties.notes) + "</p>" : "");
  }

  function draw() {
    var mode = select ? select.value : "feeling";
    stopsLayer.clearLayers();
    features.forEach(function (feature) {
      var p = feature.properties;
      var c = feature.geometry.coordinates;
      var text = describe(p);
      if (mode !== "feeling") {
        var score = p[mode];
        text += ". " + labels[mode] + ": " +
          (score === null || score === undefined ? gettext("not observed") : score);
      }
      var icon = L.divIcon({
        className: "walk-mark-wrap",
        html: '<span class="walk-mark walk-mark--' + shapeFor(p, mode) + '" style="background:' +
          colourFor(p, mode) + '"><span>' + p.order + "</span></span>",
        iconSize: [26, 26],
        iconAnchor: [13, 13],
      });
      var marker = L.marker([c[1], c[0]], {
        icon: icon, title: text, alt: text, keyboard: true, riseOnHover: true,
      });
      marker.bindPopup(popupHtml(p));
      stopsLayer.addLayer(marker);
    });
    drawLegend(mode);
  }

  function legendItem(colour, shape, text) {
    var li = document.createElement("li");
    var key = document.createElement("span");
    key.className = "walk-key walk-key--" + shape;
    key.style.background = colour;
    key.setAttribute("aria-hidden", "true");
    li.appendChild(key);
    li.appendChild(document.createTextNode(text));
    return li;
  }

  function drawLegend(mode) {
    legend.textContent = "";
    if (mode === "feeling") {
      config.feelings.forEach(function (f) {
        var style = FEELING_STYLE[f.value];
        legend.appendChild(legendItem(style.colour, style.shape, f.label));
      });
    } else {
      var names = [gettext("0 poor"), gettext("1 weak"), gettext("2 fair"), gettext("3 good")];
      names.forEach(function (name, score) {
        legend.appendChild(legendItem(SCORE_COLOURS[score], "circle", labels[mode] + ": " + name));
      });
      legend.appendChild(legendItem(NOT_OBSERVED, "circle", gettext("not observed")));
    }
    var route = document.createElement("li");
    var line = document.createElement("span");
    line.className = "walk-key walk-key--route";
    line.setAttribute("aria-hidden", "true");
    route.appendChild(line);
    route.appendChild(document.createTextNode(gettext("Route")));
    legend.appendChild(route);
  }

  if (select) select.addEventListener("change", draw);

  fetch(config.stopsUrl, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(function (data) {
      var bounds = L.latLngBounds([]);
      var route = data.walk && data.walk.route;
      if (route && route.coordinates && route.coordinates.length) {
        var latlngs = route.coordinates.map(function (c) { return [c[1], c[0]]; });
        L.polyline(latlngs, { color: "#0b5d73", weight: 5, opacity: 0.8, interactive: false })
          .addTo(map);
        latlngs.forEach(function (ll) { bounds.extend(ll); });
      }
      features = data.features || [];
      features.forEach(function (f) {
        bounds.extend([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
      });
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 18 });
      draw();
      section.setAttribute("data-walk-map-ready", String(features.length));
      statusLine.textContent = features.length
        ? interpolate(
          ngettext("%(n)s stop on the map.", "%(n)s stops on the map.", features.length),
          { n: features.length },
          true
        )
        : gettext("No approved stops to show.");
    })
    .catch(function () {
      statusLine.textContent = gettext("The stops could not be loaded. The table below lists them.");
    });
})();
