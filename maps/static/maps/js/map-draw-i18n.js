/* Leaflet.draw's toolbar and tooltips in the admin user's language.
 *
 * Leaflet.draw keeps its English strings in L.drawLocal and reads them when a toolbar is built
 * (on the window's load event, when django-leaflet starts its maps), so this file only has to
 * run before then. The strings go through the admin's JavaScript catalogue (`gettext`, loaded by
 * every Wagtail admin page), which includes the project's own djangojs catalogue.
 */
(function () {
  "use strict";
  if (typeof L === "undefined" || !L.drawLocal || typeof window.gettext !== "function") {
    return;
  }
  var t = window.gettext;
  var draw = L.drawLocal.draw;
  var edit = L.drawLocal.edit;
  draw.toolbar.actions.title = t("Cancel drawing");
  draw.toolbar.actions.text = t("Cancel");
  draw.toolbar.finish.title = t("Finish drawing");
  draw.toolbar.finish.text = t("Finish");
  draw.toolbar.undo.title = t("Delete the last point drawn");
  draw.toolbar.undo.text = t("Delete last point");
  draw.toolbar.buttons.polyline = t("Draw the route");
  draw.toolbar.buttons.marker = t("Place a point");
  draw.handlers.marker.tooltip.start = t("Click the map to place the point.");
  draw.handlers.polyline.tooltip.start = t("Click where the route starts.");
  draw.handlers.polyline.tooltip.cont = t("Click to continue the route.");
  draw.handlers.polyline.tooltip.end = t("Click the last point again to finish the route.");
  edit.toolbar.actions.save.title = t("Keep the changes");
  edit.toolbar.actions.save.text = t("Done");
  edit.toolbar.actions.cancel.title = t("Cancel editing and discard the changes");
  edit.toolbar.actions.cancel.text = t("Cancel");
  edit.toolbar.actions.clearAll.title = t("Remove everything drawn");
  edit.toolbar.actions.clearAll.text = t("Remove all");
  edit.toolbar.buttons.edit = t("Move points");
  edit.toolbar.buttons.editDisabled = t("Nothing to edit");
  edit.toolbar.buttons.remove = t("Remove");
  edit.toolbar.buttons.removeDisabled = t("Nothing to remove");
  edit.handlers.edit.tooltip.text = t("Drag the handles to move the points.");
  edit.handlers.edit.tooltip.subtext = t("Click Cancel to undo the changes.");
  edit.handlers.remove.tooltip.text = t("Click the line or point to remove it.");
})();
