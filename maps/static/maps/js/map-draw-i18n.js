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
  var gettext = window.gettext; // called by name so that makemessages finds each string
  var draw = L.drawLocal.draw;
  var edit = L.drawLocal.edit;
  draw.toolbar.actions.title = gettext("Cancel drawing");
  draw.toolbar.actions.text = gettext("Cancel");
  draw.toolbar.finish.title = gettext("Finish drawing");
  draw.toolbar.finish.text = gettext("Finish");
  draw.toolbar.undo.title = gettext("Delete the last point drawn");
  draw.toolbar.undo.text = gettext("Delete last point");
  draw.toolbar.buttons.polyline = gettext("Draw the route");
  draw.toolbar.buttons.marker = gettext("Place a point");
  draw.handlers.marker.tooltip.start = gettext("Click the map to place the point.");
  draw.handlers.polyline.tooltip.start = gettext("Click where the route starts.");
  draw.handlers.polyline.tooltip.cont = gettext("Click to continue the route.");
  draw.handlers.polyline.tooltip.end = gettext("Click the last point again to finish the route.");
  edit.toolbar.actions.save.title = gettext("Keep the changes");
  edit.toolbar.actions.save.text = gettext("Done");
  edit.toolbar.actions.cancel.title = gettext("Cancel editing and discard the changes");
  edit.toolbar.actions.cancel.text = gettext("Cancel");
  edit.toolbar.actions.clearAll.title = gettext("Remove everything drawn");
  edit.toolbar.actions.clearAll.text = gettext("Remove all");
  edit.toolbar.buttons.edit = gettext("Move points");
  edit.toolbar.buttons.editDisabled = gettext("Nothing to edit");
  edit.toolbar.buttons.remove = gettext("Remove");
  edit.toolbar.buttons.removeDisabled = gettext("Nothing to remove");
  edit.handlers.edit.tooltip.text = gettext("Drag the handles to move the points.");
  edit.handlers.edit.tooltip.subtext = gettext("Click Cancel to undo the changes.");
  edit.handlers.remove.tooltip.text = gettext("Click the line or point to remove it.");
})();
