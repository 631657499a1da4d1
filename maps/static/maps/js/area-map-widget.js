/* Keep the admin boundary map's size in step with its container.
 *
 * Leaflet measures its container once, when it is created. In the Wagtail admin the container
 * changes size afterwards (a panel is collapsed and reopened, the sidebar slides in or out), and a
 * map measured while hidden stays grey. django-leaflet announces each map with a `map:init` event;
 * we watch that map's container and tell Leaflet whenever it is resized.
 */
(function () {
  "use strict";
  window.addEventListener("map:init", function (event) {
    var map = event.detail && event.detail.map;
    if (!map || typeof ResizeObserver === "undefined") {
      return;
    }
    var observer = new ResizeObserver(function () {
      map.invalidateSize();
    });
    observer.observe(map.getContainer());
  });
})();
