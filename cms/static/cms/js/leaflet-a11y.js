/* Leaflet's built-in controls in the page's language.
 *
 * Leaflet names its zoom buttons "Zoom in" / "Zoom out" (their title and aria-label) in English
 * whatever the page's language, so a screen reader on a Spanish page reads English. This sets the
 * defaults before any map is made: load it after leaflet.js and Django's JavaScript catalogue, and
 * before the page's own map script. Nothing here changes Leaflet itself.
 */
/* global L, gettext */
(function () {
  "use strict";
  if (typeof L === "undefined" || !L.Control || !L.Control.Zoom || typeof gettext !== "function") {
    return;
  }
  // Literal gettext("…") calls, so that makemessages finds the strings.
  L.Control.Zoom.prototype.options.zoomInTitle = gettext("Zoom in");
  L.Control.Zoom.prototype.options.zoomOutTitle = gettext("Zoom out");
})();
