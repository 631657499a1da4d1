// Inspect view of a concern: the exact point (staff only) and its area outline on a small map.
// The outline keeps the map meaningful when tiles cannot be loaded.
window.conviveConcernMap = function (map) {
  const data = JSON.parse(document.getElementById("concern-map-data").textContent);
  const layers = [];
  if (data.area) {
    layers.push(L.geoJSON(data.area, { style: { weight: 2, fillOpacity: 0.08 } }).addTo(map));
  }
  if (data.point) {
    layers.push(L.circleMarker(data.point, { radius: 8, weight: 3 }).addTo(map));
  }
  const group = L.featureGroup(layers);
  if (data.point) {
    map.setView(data.point, 16);
  } else if (layers.length) {
    map.fitBounds(group.getBounds(), { padding: [10, 10] });
  }
};
