/* Recording a safety walk in the field, with or without a connection.
 *
 * The page works without this file: the form posts normally and the place is chosen from a "where
 * along the route" list. This script adds:
 *   - the map (Leaflet): route, meeting point, stops coloured by feeling, drawn with or without
 *     tiles; placing the stop by GPS, by tapping the route (snapped onto it) or the map, or at the
 *     map's centre for keyboard users;
 *   - the offline queue: each stop is saved in IndexedDB (queue.js) with an idempotency key made
 *     when it is recorded, then sent in order by a sync loop (on load, when the phone comes back
 *     online, and every ~20 s while something waits, backing off on network errors and 5xx). The
 *     server stores a key once, so a resend never makes a second stop. A refusal (400) keeps the
 *     stop as "needs attention" with the server's message until it is fixed or discarded;
 *   - the service worker (sw.js) that keeps the page, its scripts and styles on the phone.
 * Every message goes through Django's JavaScript catalogue and is announced in aria-live regions.
 */
(function () {
  "use strict";

  // The names must stay literal so makemessages -d djangojs finds the strings.
  var gettext = typeof window.gettext === "function" ? window.gettext : function (s) { return s; };
  var ngettext = typeof window.ngettext === "function"
    ? window.ngettext
    : function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = typeof window.interpolate === "function"
    ? window.interpolate
    : function (fmt, obj) { return fmt.replace(/%\((\w+)\)s/g, function (_m, k) { return String(obj[k]); }); };

  var configNode = document.getElementById("walk-config");
  var form = document.getElementById("stop-form");
  if (!configNode || !form) { return; }
  var config = JSON.parse(configNode.textContent);
  var Queue = window.ConviveWalkQueue;

  var SYNC_INTERVAL_MS = 20000;
  var MAX_BACKOFF_MS = 5 * 60 * 1000;
  var SEND_TIMEOUT_MS = 90000;
  var SNAP_PX = 28; // a tap this close to the route is a tap on the route
  var COLOURS = { comfortable: "#1b7a3e", uncomfortable: "#b86e00", frightening: "#b3261e" };
  var SCORE_FIELDS = Array.prototype.map.call(
    form.querySelectorAll("fieldset.walk-score"),
    function (fieldset) { return fieldset.id.replace(/^score-/, ""); }
  );

  var $ = function (id) { return document.getElementById(id); };
  var el = {
    status: $("walk-status"),
    pending: $("walk-pending"),
    pendingCount: $("walk-pending-count"),
    pendingText: $("walk-pending-text"),
    connection: $("walk-connection"),
    connectionText: $("walk-connection-text"),
    alert: $("walk-alert"),
    confirm: $("walk-confirm"),
    mapBlock: $("walk-map-block"),
    mapStatus: $("walk-map-status"),
    lat: $("id_latitude"),
    lon: $("id_longitude"),
    locatedBy: $("id_located_by"),
    accuracy: $("id_accuracy_m"),
    recordedAt: $("id_recorded_at"),
    along: $("id_along"),
    clear: $("stop-clear"),
    photo: $("id_photo"),
    photoKept: $("photo-kept"),
    notes: $("id_notes"),
    editing: $("walk-editing"),
    cancelEdit: $("stop-cancel-edit"),
    queueSection: $("walk-queue"),
    queueList: $("walk-queue-list"),
    stopList: $("walk-stop-list"),
    stopsCount: $("walk-stops-count"),
  };

  var state = {
    queueOk: false,
    items: [], // this walk's queue, in recording order
    server: (config.stops && config.stops.features) || [],
    everSent: false,
    offlineReady: false,
    editing: null, // the queue item being fixed
    lastSavedKey: null,
    blocked: false, // the access code was renewed: stop sending until the person re-joins
  };

  // --- Small helpers ----------------------------------------------------------------------------

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* Read at send time: the token in a page opened from the cache may be old, the cookie is not. */
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function timeLabel(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    try {
      return date.toLocaleTimeString(config.language, { hour: "2-digit", minute: "2-digit" });
    } catch (error) {
      return date.toTimeString().slice(0, 5);
    }
  }

  function feelingLabel(value) { return (config.feelings && config.feelings[value]) || value || ""; }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function say(node, message, isError) {
    if (!node) { return; }
    node.textContent = message || "";
    node.hidden = !message;
    node.classList.toggle("is-error", Boolean(isError));
  }

  // --- Geometry on the phone (a hint only: the server decides) --------------------------------

  function localMetres(origin) {
    var k = Math.PI / 180 * 6371008.8;
    var cos = Math.cos(origin.lat * Math.PI / 180);
    return function (lat, lng) { return { x: (lng - origin.lng) * k * cos, y: (lat - origin.lat) * k }; };
  }

  /* The nearest point of the route and how far it is, in metres. */
  function nearestOnRoute(latlng) {
    var route = config.route;
    if (!route || route.length < 2) { return null; }
    var project = localMetres(latlng);
    var k = Math.PI / 180 * 6371008.8;
    var cos = Math.cos(latlng.lat * Math.PI / 180);
    var best = null;
    for (var i = 0; i < route.length - 1; i++) {
      var a = project(route[i][0], route[i][1]);
      var b = project(route[i + 1][0], route[i + 1][1]);
      var dx = b.x - a.x, dy = b.y - a.y;
      var len2 = dx * dx + dy * dy;
      var t = len2 ? Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / len2)) : 0;
      var px = a.x + t * dx, py = a.y + t * dy;
      var d = Math.sqrt(px * px + py * py);
      if (!best || d < best.metres) {
        best = { metres: d, lat: latlng.lat + py / k, lng: latlng.lng + px / (k * cos) };
      }
    }
    return best;
  }

  function inWalkAreas(latlng) {
    return (config.areas || []).some(function (g) {
      return ConviveMaps.geometryContains(g, latlng.lng, latlng.lat);
    });
  }

  /* The server's rule (maps.walks): near the route, or inside one of the walk's areas. */
  function onTheWalk(latlng) {
    var near = nearestOnRoute(latlng);
    if (near && near.metres <= config.maxDistance) { return true; }
    if (!near && !(config.areas || []).length) { return true; }
    return inWalkAreas(latlng);
  }

  // --- The map --------------------------------------------------------------------------------

  var map = null;
  var layers = {};
  var pick = null;
  var pickAccuracy = null;

  function setupMap() {
    if (!el.mapBlock || typeof window.L === "undefined") { return; }
    var L = window.L;
    el.mapBlock.hidden = false;
    document.querySelectorAll(".walk-js-only").forEach(function (n) { n.hidden = false; });
    document.querySelectorAll(".walk-nojs-only").forEach(function (n) { n.hidden = true; });

    var canvas = $("walk-map");
    map = L.map(canvas, { keyboard: true, zoomControl: true, minZoom: 12, maxZoom: 20, zoomSnap: 1 });
    canvas.leafletMap = map; // for end-to-end tests and debugging; not an API
    map.attributionControl.setPrefix(false);

    // Tiles are a background only: without them (offline, blocked, down) everything still draws.
    ConviveMaps.addTiles(map, {
      url: config.tiles,
      attribution: config.attribution,
      maxZoom: 20,
      plainClass: "walk-map--plain",
    });

    layers.server = L.layerGroup().addTo(map);
    layers.queue = L.layerGroup().addTo(map);
    if (config.route) {
      L.polyline(config.route, { color: "#ffffff", weight: 11, opacity: 0.9, interactive: false }).addTo(map);
      layers.route = L.polyline(config.route, {
        color: "#0b5d73", weight: 6, opacity: 1, interactive: false, className: "walk-route",
      }).addTo(map);
      map.fitBounds(layers.route.getBounds(), { padding: [28, 28], maxZoom: 18 });
    } else if (config.meeting) {
      map.setView(config.meeting, 17);
    } else {
      map.setView([4.65, -74.06], 13);
    }
    if (config.meeting) {
      L.circleMarker(config.meeting, {
        radius: 10, color: "#1d2327", weight: 3, fillColor: "#ffffff", fillOpacity: 1,
        interactive: false, className: "walk-meeting",
      }).addTo(map);
      L.circleMarker(config.meeting, {
        radius: 4, stroke: false, fillColor: "#1d2327", fillOpacity: 1, interactive: false,
      }).addTo(map);
    }

    map.on("click", function (event) { placeByTap(event.latlng); });
    $("stop-centre").addEventListener("click", function () { placeByTap(map.getCenter()); });
    $("stop-locate").addEventListener("click", locate);
    el.clear.addEventListener("click", function () { clearPlace(true); });
  }

  function placeByTap(latlng) {
    var near = nearestOnRoute(latlng);
    if (near && map) {
      var tapped = map.latLngToContainerPoint(latlng);
      var onRoute = map.latLngToContainerPoint([near.lat, near.lng]);
      if (tapped.distanceTo(onRoute) <= SNAP_PX) {
        setPlace({ lat: near.lat, lng: near.lng }, "route");
        return;
      }
    }
    setPlace(latlng, "map");
  }

  function setPlace(latlng, how, accuracy) {
    var lat = Math.round(latlng.lat * 1e7) / 1e7;
    var lng = Math.round(latlng.lng * 1e7) / 1e7;
    el.lat.value = lat.toFixed(7);
    el.lon.value = lng.toFixed(7);
    el.locatedBy.value = how === "along" ? "route" : how;
    el.accuracy.value = how === "gps" && isFinite(accuracy) ? String(Math.round(accuracy)) : "";
    if (how !== "along" && el.along) { el.along.value = ""; }
    showErrors("point", []);
    if (map) {
      var L = window.L;
      if (!pick) {
        pick = L.marker([lat, lng], {
          keyboard: false, interactive: false,
          icon: L.divIcon({ className: "walk-pick", html: "<span></span>", iconSize: [30, 30], iconAnchor: [15, 29] }),
        }).addTo(map);
      } else {
        pick.setLatLng([lat, lng]);
      }
      if (pickAccuracy) { map.removeLayer(pickAccuracy); pickAccuracy = null; }
      if (how === "gps" && isFinite(accuracy)) {
        pickAccuracy = L.circle([lat, lng], {
          radius: accuracy, color: "#0b5d73", weight: 1, fillOpacity: 0.1, interactive: false,
        }).addTo(map);
      }
      if (!onTheWalk({ lat: lat, lng: lng }) && layers.route) {
        // Far off (a GPS jump, a stop sent back for fixing): show the route to tap instead.
        map.fitBounds(layers.route.getBounds(), { padding: [28, 28], maxZoom: 18 });
      } else if (!map.getBounds().contains([lat, lng])) {
        map.panTo([lat, lng]);
      }
    }
    if (el.clear) { el.clear.hidden = false; }
    var message = {
      route: gettext("Stop placed on the route."),
      map: gettext("Stop placed where you tapped."),
      along: gettext("Stop placed on the route."),
      gps: interpolate(gettext("Stop placed at your location (accurate to about %(metres)s m)."), { metres: Math.round(accuracy || 0) }, true),
    }[how];
    if (!onTheWalk({ lat: lat, lng: lng })) {
      say(el.mapStatus, gettext("This place is too far from the walk's route. Tap the route to place the stop."), true);
    } else {
      say(el.mapStatus, message, false);
    }
    el.mapStatus.hidden = false;
  }

  function clearPlace(announce) {
    el.lat.value = "";
    el.lon.value = "";
    el.locatedBy.value = "";
    el.accuracy.value = "";
    if (el.along) { el.along.value = ""; }
    if (pick && map) { map.removeLayer(pick); pick = null; }
    if (pickAccuracy && map) { map.removeLayer(pickAccuracy); pickAccuracy = null; }
    if (el.clear) { el.clear.hidden = true; }
    if (el.mapStatus) { say(el.mapStatus, announce ? gettext("The place was removed.") : "", false); el.mapStatus.hidden = false; }
  }

  function locate() {
    if (!("geolocation" in navigator)) {
      say(el.mapStatus, gettext("This phone cannot share its location. Tap the route instead."), true);
      return;
    }
    say(el.mapStatus, gettext("Looking for your location…"), false);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var latlng = { lat: position.coords.latitude, lng: position.coords.longitude };
        if (map) { map.setView([latlng.lat, latlng.lng], Math.max(map.getZoom(), 17)); }
        setPlace(latlng, "gps", position.coords.accuracy);
      },
      function (error) {
        var message = error.code === 1
          ? gettext("You did not allow this page to use your location. Tap the route instead.")
          : error.code === 3
            ? gettext("Finding your location took too long. Try again, or tap the route.")
            : gettext("Your location is not available right now. Tap the route instead.");
        say(el.mapStatus, message, true);
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 15000 }
    );
  }

  function onAlongChange() {
    var value = el.along.value;
    if (!value) { return; }
    var position = (config.positions || []).filter(function (p) { return p.value === value; })[0];
    if (position) { setPlace({ lat: position.lat, lng: position.lon }, "along"); }
  }

  // --- Drawing what is recorded ------------------------------------------------------------------

  function markStyle(feeling, queued, attention) {
    return {
      radius: queued ? 9 : 8,
      color: queued ? "#1d2327" : "#ffffff",
      weight: queued ? 3 : 2,
      dashArray: queued ? "4 3" : null,
      fillColor: COLOURS[feeling] || "#4a545c",
      fillOpacity: queued ? 0.55 : 0.95,
      interactive: false,
      className: "walk-mark walk-mark--" + (queued ? "queued" : "sent") + " walk-mark--" + feeling + (attention ? " walk-mark--attention" : ""),
    };
  }

  function drawMarks() {
    if (!map) { return; }
    var L = window.L;
    layers.server.clearLayers();
    layers.queue.clearLayers();
    state.server.forEach(function (feature) {
      var c = feature.geometry && feature.geometry.coordinates;
      if (!c) { return; }
      L.circleMarker([c[1], c[0]], markStyle(feature.properties.feeling, false)).addTo(layers.server);
    });
    state.items.forEach(function (item) {
      L.circleMarker([item.lat, item.lon], markStyle(item.feeling, true, item.state === "attention")).addTo(layers.queue);
    });
  }

  function renderStopList() {
    var rows = state.server.map(function (f) {
      return { time: f.properties.recorded_at, feeling: f.properties.feeling, reference: f.properties.reference };
    }).concat(state.items.map(function (item) {
      return { time: item.recordedAt, feeling: item.feeling, item: item };
    }));
    rows.sort(function (a, b) { return a.time < b.time ? -1 : a.time > b.time ? 1 : 0; });
    el.stopList.textContent = "";
    if (!rows.length) {
      el.stopList.appendChild(make("li", "walk-list__empty", gettext("No stops yet.")));
    }
    rows.forEach(function (row) {
      var li = make("li", "walk-list__item" + (row.item ? " walk-list__item--queued" : ""));
      li.appendChild(make("span", "walk-swatch walk-swatch--" + row.feeling + (row.item ? " walk-swatch--hollow" : ""))).setAttribute("aria-hidden", "true");
      if (row.reference) {
        li.appendChild(make("span", "walk-list__ref", row.reference));
      } else {
        li.appendChild(make("span", "walk-list__unsent", row.item.state === "attention" ? gettext("Needs attention") : gettext("Not sent yet")));
      }
      li.appendChild(make("span", "", feelingLabel(row.feeling)));
      li.appendChild(make("span", "walk-hint", timeLabel(row.time)));
      el.stopList.appendChild(li);
    });
    el.stopsCount.textContent = String(rows.length);
  }

  function errorText(errors) {
    var messages = [];
    Object.keys(errors || {}).forEach(function (key) {
      (errors[key] || []).forEach(function (m) { if (messages.indexOf(m) < 0) { messages.push(m); } });
    });
    return messages.join(" ");
  }

  function renderQueue() {
    el.queueList.textContent = "";
    el.queueSection.hidden = !state.items.length;
    state.items.forEach(function (item) {
      var attention = item.state === "attention";
      var li = make("li", "walk-queue__item" + (attention ? " walk-queue__item--attention" : ""));
      li.dataset.key = item.key;
      var head = make("p", "walk-queue__head");
      head.appendChild(make("span", "walk-swatch walk-swatch--" + item.feeling + " walk-swatch--hollow")).setAttribute("aria-hidden", "true");
      head.appendChild(make("strong", "", feelingLabel(item.feeling)));
      head.appendChild(make("span", "walk-hint", interpolate(gettext("recorded at %(time)s"), { time: timeLabel(item.recordedAt) }, true)));
      li.appendChild(head);
      if (attention) {
        li.appendChild(make("p", "walk-error", errorText(item.errors) || gettext("The server could not accept this stop.")));
        var actions = make("p", "walk-queue__actions");
        var fix = make("button", "button walk-button", gettext("Fix this stop"));
        fix.type = "button";
        fix.addEventListener("click", function () { editItem(item.key); });
        var discard = make("button", "button walk-button walk-button--danger", gettext("Discard it"));
        discard.type = "button";
        discard.addEventListener("click", function () { discardItem(item.key); });
        actions.appendChild(fix);
        actions.appendChild(discard);
        li.appendChild(actions);
      } else {
        li.appendChild(make("p", "walk-hint", navigator.onLine ? gettext("Waiting to be sent…") : gettext("Kept on this phone until you are online.")));
      }
      el.queueList.appendChild(li);
    });
  }

  function renderStatus() {
    el.status.hidden = false;
    var waiting = state.items.length;
    var attention = state.items.filter(function (i) { return i.state === "attention"; }).length;
    el.pending.dataset.pendingCount = String(waiting);
    el.pending.classList.toggle("is-waiting", waiting > 0);
    el.pending.classList.toggle("is-attention", attention > 0);
    el.pendingCount.textContent = String(waiting);
    var text;
    if (waiting) {
      text = interpolate(ngettext("%(count)s stop not sent yet", "%(count)s stops not sent yet", waiting), { count: waiting }, true);
      if (attention) {
        text += " · " + interpolate(ngettext("%(count)s needs attention", "%(count)s need attention", attention), { count: attention }, true);
      }
      el.pendingCount.hidden = false;
    } else {
      text = state.server.length || state.everSent ? gettext("All stops sent") : gettext("No stops waiting to be sent");
      el.pendingCount.textContent = "✓";
    }
    el.pendingText.textContent = "";
    if (waiting) {
      // The list of what waits (and what needs fixing) is below the form: link to it.
      var link = make("a", "", text);
      link.href = "#walk-queue";
      el.pendingText.appendChild(link);
    } else {
      el.pendingText.textContent = text;
    }
    var online = navigator.onLine;
    el.connection.dataset.online = String(online);
    el.connectionText.textContent = online
      ? (state.offlineReady ? gettext("Online · this page also works offline") : gettext("Online"))
      : gettext("Offline: stops are kept on this phone");
  }

  function render() {
    drawMarks();
    renderStopList();
    renderQueue();
    renderStatus();
  }

  function reload() {
    if (!state.queueOk) { render(); return Promise.resolve(); }
    return Queue.list(config.walk).then(function (items) {
      state.items = items;
      render();
    }).catch(function () { render(); });
  }

  function refreshServerStops() {
    if (!navigator.onLine || !window.fetch) { return Promise.resolve(); }
    return fetch(config.stopsUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.features) { state.server = data.features; }
      })
      .catch(function () { /* offline or the server is away: keep what we have */ });
  }

  // --- Sending the queue ------------------------------------------------------------------------

  var sync = { running: false, again: false, timer: null, failures: 0 };

  function scheduleSync(ms) {
    window.clearTimeout(sync.timer);
    sync.timer = window.setTimeout(syncNow, ms);
  }

  function backoff() {
    var base = Math.min(MAX_BACKOFF_MS, SYNC_INTERVAL_MS * Math.pow(2, Math.max(0, sync.failures - 1)));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  function fetchWithTimeout(url, options, ms) {
    if (!window.AbortController) { return fetch(url, options); }
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, ms);
    options.signal = controller.signal;
    return fetch(url, options).finally(function () { window.clearTimeout(timer); });
  }

  function itemBody(item) {
    var body = new FormData();
    body.append("idempotency_key", item.key);
    body.append("latitude", String(item.lat));
    body.append("longitude", String(item.lon));
    body.append("located_by", item.locatedBy || "");
    body.append("accuracy_m", item.accuracy === null || item.accuracy === undefined ? "" : String(item.accuracy));
    body.append("recorded_at", item.recordedAt);
    body.append("feeling", item.feeling || "");
    Object.keys(item.scores || {}).forEach(function (name) { body.append(name, item.scores[name]); });
    (item.hazards || []).forEach(function (h) { body.append("hazards", h); });
    body.append("notes", item.notes || "");
    if (item.photo) { body.append("photo", item.photo, item.photoName || "photo.jpg"); }
    return body;
  }

  /* Send one item. Resolves to "next" (go on with the queue) or "stop" (try later). */
  function sendOne(item) {
    return fetchWithTimeout(config.stopsUrl, {
      method: "POST",
      body: itemBody(item),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    }, SEND_TIMEOUT_MS).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return handleAnswer(item, response, data);
      });
    }, function () {
      sync.failures += 1; // no connection, or it dropped: try again later
      return "stop";
    });
  }

  function handleAnswer(item, response, data) {
    var status = response.status;
    if ((status === 200 || status === 201) && data && data.reference) {
      return Queue.remove(item.key).then(function () {
        state.everSent = true;
        state.server = state.server.filter(function (f) { return f.properties.reference !== data.reference; });
        state.server.push({
          type: "Feature",
          geometry: { type: "Point", coordinates: [item.lon, item.lat] },
          properties: { reference: data.reference, feeling: item.feeling, recorded_at: item.recordedAt, status: "pending" },
        });
        if (item.key === state.lastSavedKey) {
          say(el.confirm, interpolate(gettext("Sent: reference %(reference)s"), { reference: data.reference }, true), false);
        }
        sync.failures = 0;
        return "next";
      });
    }
    if (status === 403 && data && data.error) {
      state.blocked = true;
      showAlert(data.message);
      if (item.key === state.lastSavedKey) {
        say(el.confirm, gettext("Saved on this phone; it will be sent once the new access code is entered."), false);
      }
      return "stop";
    }
    if (status === 403) {
      // The security token was refused (cookies cleared, a new session): load the page once to
      // get a fresh one, and try again later.
      sync.failures += 1;
      return fetch(config.recordUrl, { credentials: "same-origin", cache: "no-store" })
        .catch(function () {}).then(function () { return "stop"; });
    }
    if (status === 429 || status >= 500 || status === 0 || (status === 400 && !(data && data.errors))) {
      sync.failures += 1;
      return "stop";
    }
    // Refused: keep it, show why, and let the person fix or discard it.
    item.state = "attention";
    if (data && data.errors) {
      item.errors = data.errors;
    } else if (status === 413) {
      item.errors = { photo: [gettext("The photo is too large to send. Remove it or take a smaller one.")] };
    } else {
      item.errors = { __all__: [(data && data.message) || gettext("The server could not accept this stop.")] };
    }
    return Queue.put(item).then(function () {
      if (item.key === state.lastSavedKey) {
        say(el.confirm, gettext("This stop needs attention before it can be sent; see the list below."), true);
      }
      return "next";
    });
  }

  function sendAll() {
    return Queue.list(config.walk).then(function (items) {
      var waiting = items.filter(function (i) { return i.state !== "attention"; });
      var chain = Promise.resolve("next");
      waiting.forEach(function (item) {
        chain = chain.then(function (outcome) {
          return outcome === "next" && !state.blocked ? sendOne(item) : "stop";
        });
      });
      return chain;
    }).then(function (outcome) {
      if (outcome === "next") { return refreshServerStops(); }
      return null;
    });
  }

  function syncNow() {
    window.clearTimeout(sync.timer);
    if (sync.running) {
      sync.again = true; // something new arrived during a pass: go again straight after it
      return Promise.resolve();
    }
    if (!state.queueOk || state.blocked) { return Promise.resolve(); }
    if (!navigator.onLine) { return reload(); }
    sync.running = true;
    // One tab sends at a time; the keys would make a double send harmless, but not wasteful.
    var run = navigator.locks && navigator.locks.request
      ? navigator.locks.request("convive-walk-sync-" + config.walk, sendAll)
      : sendAll();
    sync.again = false;
    return Promise.resolve(run).catch(function () { sync.failures += 1; }).then(function () {
      sync.running = false;
      return reload();
    }).then(function () {
      var waiting = state.items.filter(function (i) { return i.state !== "attention"; }).length;
      if (!waiting || state.blocked) { return; }
      if (sync.again && !sync.failures) {
        scheduleSync(0);
      } else {
        scheduleSync(sync.failures ? backoff() : SYNC_INTERVAL_MS);
      }
    });
  }

  function showAlert(message) {
    el.alert.textContent = "";
    el.alert.appendChild(make("p", "", message));
    var link = make("a", "button walk-button", gettext("Enter the new code"));
    link.href = config.joinUrl;
    el.alert.appendChild(link);
    el.alert.hidden = false;
  }

  // --- The form ---------------------------------------------------------------------------------

  function checkedValue(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }

  function showErrors(field, messages) {
    var box = form.querySelector('[data-errors-for="' + field + '"]');
    if (!box) { return; }
    box.textContent = "";
    (messages || []).forEach(function (m) { box.appendChild(make("p", "walk-error", m)); });
    var group = box.closest(".walk-group, .walk-score, .walk-field");
    if (group) { group.classList.toggle(group.classList.contains("walk-score") ? "walk-score--error" : "walk-group--error", Boolean(messages && messages.length)); }
  }

  function collect() {
    var scores = {};
    SCORE_FIELDS.forEach(function (name) { scores[name] = checkedValue(name); });
    var hazards = Array.prototype.map.call(form.querySelectorAll('input[name="hazards"]:checked'), function (i) { return i.value; });
    var lat = parseFloat(el.lat.value), lon = parseFloat(el.lon.value);
    return {
      lat: lat,
      lon: lon,
      locatedBy: el.locatedBy.value || "map",
      accuracy: el.accuracy.value ? parseFloat(el.accuracy.value) : null,
      feeling: checkedValue("feeling"),
      scores: scores,
      hazards: hazards,
      notes: el.notes.value.trim(),
      photo: el.photo.files && el.photo.files[0] ? el.photo.files[0] : null,
    };
  }

  function validate(data) {
    var errors = {};
    if (!isFinite(data.lat) || !isFinite(data.lon)) {
      errors.point = [gettext("Mark where the stop is: use your location or tap the route.")];
    } else if (!onTheWalk({ lat: data.lat, lng: data.lon })) {
      errors.point = [gettext("This place is too far from the walk's route. Tap the route to place the stop.")];
    }
    if (!data.feeling) { errors.feeling = [gettext("Say how safe you felt here.")]; }
    if (data.notes.length > 2000) { errors.notes = [gettext("The notes are too long (at most 2,000 characters).")]; }
    return errors;
  }

  function resetForm() {
    form.querySelectorAll('input[type="radio"]').forEach(function (input) {
      input.checked = input.name !== "feeling" && input.value === "";
    });
    form.querySelectorAll('input[name="hazards"]').forEach(function (input) { input.checked = false; });
    el.notes.value = "";
    el.photo.value = "";
    if (el.photoKept) { el.photoKept.hidden = true; }
    clearPlace(false);
    ["point", "feeling", "notes", "photo", "hazards"].concat(SCORE_FIELDS).forEach(function (f) { showErrors(f, []); });
    var summary = $("error-summary");
    if (summary) { summary.remove(); }
    state.editing = null;
    el.editing.hidden = true;
    el.cancelEdit.hidden = true;
  }

  function onSubmit(event) {
    if (!state.queueOk) {
      // No IndexedDB here (a private window, an old browser): post the form as it is.
      el.recordedAt.value = new Date().toISOString();
      return;
    }
    event.preventDefault();
    var data = collect();
    var errors = validate(data);
    ["point", "feeling", "notes"].forEach(function (f) { showErrors(f, errors[f]); });
    var first = Object.keys(errors)[0];
    if (first) {
      var target = first === "point" ? $("where") : $(first === "notes" ? "id_notes" : first);
      say(el.confirm, gettext("Please check this stop: ") + errorText(errors), true);
      if (target) { target.scrollIntoView({ block: "start" }); }
      return;
    }
    var editing = state.editing;
    var item = {
      key: editing ? editing.key : uuid4(),
      walk: config.walk,
      recordedAt: editing ? editing.recordedAt : new Date().toISOString(),
      seq: editing ? editing.seq : Date.now(),
      lat: data.lat,
      lon: data.lon,
      locatedBy: data.locatedBy,
      accuracy: data.accuracy,
      feeling: data.feeling,
      scores: data.scores,
      hazards: data.hazards,
      notes: data.notes,
      photo: data.photo || (editing && editing.photo) || null,
      photoName: data.photo ? data.photo.name : (editing && editing.photoName) || null,
      state: "pending",
      errors: null,
    };
    Queue.put(item).then(function () {
      state.lastSavedKey = item.key;
      resetForm();
      say(el.confirm, navigator.onLine
        ? gettext("Saved on this phone. Sending…")
        : gettext("Saved on this phone; it will be sent when you are online."), false);
      window.scrollTo({ top: 0 });
      return reload();
    }).then(function () {
      sync.failures = 0;
      return syncNow();
    }).catch(function () {
      say(el.confirm, gettext("This stop could not be saved on this phone. Check that the browser has space, and try again."), true);
    });
  }

  function editItem(key) {
    Queue.get(key).then(function (item) {
      if (!item) { return; }
      resetForm();
      state.editing = item;
      setPlace({ lat: item.lat, lng: item.lon }, item.locatedBy === "gps" ? "gps" : item.locatedBy, item.accuracy);
      form.querySelectorAll('input[name="feeling"]').forEach(function (i) { i.checked = i.value === item.feeling; });
      SCORE_FIELDS.forEach(function (name) {
        var value = (item.scores || {})[name] || "";
        form.querySelectorAll('input[name="' + name + '"]').forEach(function (i) { i.checked = i.value === String(value); });
      });
      form.querySelectorAll('input[name="hazards"]').forEach(function (i) { i.checked = (item.hazards || []).indexOf(i.value) >= 0; });
      el.notes.value = item.notes || "";
      if (item.photo && el.photoKept) {
        el.photoKept.textContent = gettext("The photo taken with this stop is kept. Choose another to replace it.");
        el.photoKept.hidden = false;
      }
      Object.keys(item.errors || {}).forEach(function (field) {
        var target = field === "latitude" || field === "longitude" ? "point" : field;
        showErrors(target, item.errors[field]);
      });
      el.editing.textContent = interpolate(gettext("You are fixing the stop recorded at %(time)s. Save it to send it again."), { time: timeLabel(item.recordedAt) }, true);
      el.editing.hidden = false;
      el.cancelEdit.hidden = false;
      form.scrollIntoView({ block: "start" });
      el.editing.focus();
    });
  }

  function discardItem(key) {
    if (!window.confirm(gettext("Discard this stop? It has not been sent and will be lost."))) { return; }
    Queue.remove(key).then(function () {
      if (state.editing && state.editing.key === key) { resetForm(); }
      say(el.confirm, gettext("The stop was discarded."), false);
      return reload();
    });
  }

  // --- The service worker -----------------------------------------------------------------------

  function setupWorker() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "cached" && event.data.ok) {
        state.offlineReady = true;
        document.documentElement.dataset.offlineReady = "true";
        renderStatus();
      }
    });
    function askToCache() {
      var worker = navigator.serviceWorker.controller;
      if (worker) { worker.postMessage({ type: "cache", urls: [config.recordUrl, config.stopsUrl] }); }
    }
    navigator.serviceWorker.register(config.workerUrl, { scope: config.scope }).then(function () {
      if (navigator.serviceWorker.controller) {
        askToCache();
      } else {
        navigator.serviceWorker.addEventListener("controllerchange", askToCache, { once: true });
      }
    }).catch(function () { /* no offline page: the queue still works while the tab is open */ });
  }

  // --- Start ------------------------------------------------------------------------------------

  function init() {
    setupMap();
    if (el.along) { el.along.addEventListener("change", onAlongChange); }
    form.addEventListener("submit", onSubmit);
    el.cancelEdit.addEventListener("click", function () { resetForm(); say(el.confirm, "", false); });
    window.addEventListener("online", function () { sync.failures = 0; renderStatus(); syncNow(); });
    window.addEventListener("offline", function () { render(); });
    var summary = $("error-summary");
    if (summary) { summary.focus(); }
    // A place sent back with an error (no-JS path) is shown again.
    var lat0 = parseFloat(el.lat.value), lon0 = parseFloat(el.lon.value);
    if (isFinite(lat0) && isFinite(lon0)) { setPlace({ lat: lat0, lng: lon0 }, el.locatedBy.value || "map"); }
    if (!Queue) {
      render();
      return;
    }
    Queue.open().then(function () {
      state.queueOk = true;
      return refreshServerStops();
    }).then(function () {
      return reload();
    }).then(function () {
      syncNow();
    }).catch(function () {
      state.queueOk = false;
      say(el.confirm, gettext("This browser cannot keep stops on the phone. Each stop is sent when you save it, so you need a connection."), true);
      render();
    });
    setupWorker();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
