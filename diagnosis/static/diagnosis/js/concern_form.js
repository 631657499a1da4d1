/* Concern form enhancements: a map to drop a pin, "use my location", and small conveniences.
 *
 * The form works without this file: the area select and the place description are always there.
 * This script only adds the map (Leaflet, shipped by django-leaflet) and keeps the hidden
 * latitude/longitude inputs in step with the pin. Every message goes through Django's JavaScript
 * catalogue (gettext) and is announced in an aria-live region.
 */
(function () {
  "use strict";

  // Django's JavaScript catalogue (/<lang>/jsi18n/) defines gettext; the name must stay literal
  // so makemessages -d djangojs finds the strings.
  var gettext = typeof window.gettext === "function" ? window.gettext : function (s) { return s; };
  var interpolate = typeof window.interpolate === "function"
    ? window.interpolate
    : function (fmt, obj) { return fmt.replace(/%\((\w+)\)s/g, function (_m, k) { return obj[k]; }); };

  function focusErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
  }

  function toggleGenderDescription() {
    var field = document.getElementById("gender-description-field");
    if (!field) { return; }
    var radios = document.querySelectorAll('input[name="gender"]');
    function update() {
      var other = document.querySelector('input[name="gender"][value="other"]');
      var show = other && other.checked;
      var input = document.getElementById("id_gender_description");
      field.hidden = !show && !(input && input.value);
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  function featureContains(feature, x, y) {
    return ConviveMaps.geometryContains(feature.geometry, x, y);
  }

  function setupMap() {
    var block = document.getElementById("map-block");
    if (!block || typeof window.L === "undefined") { return; }
    var L = window.L;
    block.hidden = false;

    var latInput = document.getElementById("id_latitude");
    var lonInput = document.getElementById("id_longitude");
    var areaSelect = document.getElementById("id_area");
    var status = document.getElementById("map-status");
    var removeButton = document.getElementById("pin-remove");
    var areas = null; // GeoJSON features, once loaded

    function announce(message, isError) {
      status.textContent = message;
      status.classList.toggle("map-status--error", Boolean(isError));
    }

    var map = L.map("concern-map", { keyboard: true, zoomControl: true, tap: true });
    // Exposed for end-to-end tests and for people debugging the page; not an API.
    block.leafletMap = map;
    map.attributionControl.setPrefix(false);
    var bounds = (block.dataset.bounds || "").split(",").map(Number);
    if (bounds.length === 4 && bounds.every(isFinite)) {
      map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: [8, 8] });
    } else {
      map.setView([4.65, -74.06], 12);
    }

    if (block.dataset.tiles) {
      var tiles = L.tileLayer(block.dataset.tiles, {
        attribution: block.dataset.attribution || "",
        maxZoom: 19,
      });
      var tileFailures = 0;
      var warned = false;
      tiles.on("tileerror", function () {
        tileFailures += 1;
        if (tileFailures >= 4 && !warned) {
          warned = true;
          block.classList.add("map-block--no-tiles");
          announce(gettext("The background map could not be loaded. You can still place the pin, or choose an area below."), true);
        }
      });
      tiles.addTo(map);
    }

    function areaName(lat, lon) {
      if (!areas) { return null; }
      for (var i = 0; i < areas.length; i++) {
        if (featureContains(areas[i], lon, lat)) {
          var props = areas[i].properties || {};
          return { name: props.name, id: props.id !== undefined ? props.id : areas[i].id };
        }
      }
      return false;
    }

    var marker = null;

    function setPin(latlng, how) {
      var lat = Math.round(latlng.lat * 1e6) / 1e6;
      var lon = Math.round(latlng.lng * 1e6) / 1e6;
      if (!marker) {
        marker = L.marker([lat, lon], {
          draggable: true,
          keyboard: false,
          title: gettext("Your pin"),
          alt: gettext("Your pin"),
        }).addTo(map);
        marker.on("dragend", function () { setPin(marker.getLatLng(), "moved"); });
      } else {
        marker.setLatLng([lat, lon]);
      }
      latInput.value = lat.toFixed(6);
      lonInput.value = lon.toFixed(6);
      removeButton.hidden = false;

      var where = areaName(lat, lon);
      var message;
      if (where === false) {
        message = gettext("The pin is outside the areas of this consultation. Please move it inside a marked area, or choose an area below.");
        announce(message, true);
        return;
      }
      if (where && where.name) {
        message = interpolate(gettext("Pin placed in %(area)s."), { area: where.name }, true);
        if (areaSelect && where.id) {
          areaSelect.value = String(where.id);
        }
      } else {
        message = gettext("Pin placed.");
      }
      if (how === "moved") {
        message = where && where.name
          ? interpolate(gettext("Pin moved to %(area)s."), { area: where.name }, true)
          : gettext("Pin moved.");
      }
      announce(message, false);
    }

    function removePin() {
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      latInput.value = "";
      lonInput.value = "";
      removeButton.hidden = true;
      announce(gettext("Pin removed."), false);
    }

    map.on("click", function (event) { setPin(event.latlng, "placed"); });

    document.getElementById("pin-centre").addEventListener("click", function () {
      setPin(map.getCenter(), "placed");
    });
    removeButton.addEventListener("click", removePin);

    document.getElementById("pin-locate").addEventListener("click", function () {
      if (!("geolocation" in navigator)) {
        announce(gettext("Your device cannot share its location. Please tap the map or choose an area."), true);
        return;
      }
      announce(gettext("Looking for your location…"), false);
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var latlng = L.latLng(position.coords.latitude, position.coords.longitude);
          map.setView(latlng, Math.max(map.getZoom(), 16));
          setPin(latlng, "placed");
        },
        function (error) {
          if (error.code === 1) {
            announce(gettext("You did not allow us to use your location. You can tap the map or choose an area instead."), true);
          } else if (error.code === 3) {
            announce(gettext("Finding your location took too long. Please try again, tap the map or choose an area."), true);
          } else {
            announce(gettext("Your location is not available right now. Please tap the map or choose an area."), true);
          }
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });

    // Boundaries: drawn even when the tiles fail; tolerate the endpoint failing too.
    if (block.dataset.areas && window.fetch) {
      fetch(block.dataset.areas, { headers: { Accept: "application/geo+json, application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          areas = (data && data.features) || [];
          if (!areas.length) { return; }
          var layer = L.geoJSON(data, {
            interactive: false,
            style: { color: "#0b5d73", weight: 2, fillColor: "#0b5d73", fillOpacity: 0.08 },
          }).addTo(map);
          if (!(bounds.length === 4 && bounds.every(isFinite))) {
            map.fitBounds(layer.getBounds(), { padding: [8, 8] });
          }
          if (marker) {
            setPin(marker.getLatLng(), "placed");
          }
        })
        .catch(function () {
          areas = null; // no boundaries: the pin still works, the server checks the place
        });
    }

    // A pin sent back with an error (or after a reload) is shown again.
    var lat0 = parseFloat(latInput.value);
    var lon0 = parseFloat(lonInput.value);
    if (isFinite(lat0) && isFinite(lon0) && Math.abs(lat0) <= 90 && Math.abs(lon0) <= 180) {
      setPin(L.latLng(lat0, lon0), "placed");
      map.setView([lat0, lon0], Math.max(map.getZoom(), 15));
    }
  }

  function init() {
    toggleGenderDescription();
    setupMap();
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
