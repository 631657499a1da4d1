/* Read-only maps of the safety-walk admin (a walk's route, one stop's exact point).
 *
 * The data comes from a JSON script next to the map (`walk-admin-map-data`). The route and the
 * points are drawn as vectors, so the map says where things are even when tiles cannot load.
 */
window.conviveWalkAdminMap = function (map) {
  "use strict";
  var data = JSON.parse(document.getElementById("walk-admin-map-data").textContent);
  var layers = [];
  var colours = { comfortable: "#1b7f3b", uncomfortable: "#b86e00", frightening: "#b3261e" };
  if (data.route) {
    layers.push(L.geoJSON(data.route, { style: { color: "#2e5aac", weight: 5, opacity: 0.8 } }));
  }
  if (data.meeting_point) {
    layers.push(
      L.circleMarker(data.meeting_point, { radius: 7, color: "#2e5aac", fillOpacity: 1 })
    );
  }
  (data.stops || []).forEach(function (stop) {
    layers.push(
      L.circleMarker(stop.point, {
        radius: 8,
        weight: 3,
        color: colours[stop.feeling] || "#333",
        fillOpacity: 0.5,
      })
    );
  });
  if (data.public_point) {
    layers.push(
      L.circleMarker(data.public_point, { radius: 6, color: "#555", dashArray: "3 3", fillOpacity: 0 })
    );
  }
  layers.forEach(function (layer) {
    layer.addTo(map);
  });
  if (layers.length) {
    var bounds = L.featureGroup(layers).getBounds();
    if ((data.stops || []).length === 1 && !data.route) {
      map.setView(data.stops[0].point, 17);
    } else {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    }
  }
};
