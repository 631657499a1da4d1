"""Map widgets for the Wagtail admin.

Wagtail renders panels through Telepath and does not include a widget's media unless the widget says
so; django-leaflet's admin widget then shows an empty box. `include_media = True` makes Leaflet's
CSS/JS load with the form. That media leaves out `leaflet.extras.css`, the stylesheet that gives
the map container its height (django-leaflet only adds it through the `{% leaflet_css %}` tag,
which Wagtail's admin never calls), so the map drew its polygon into a 0-pixel-high box. We add our
own stylesheet with a fixed height and a script that keeps Leaflet's idea of the size in step when
the panel is collapsed and reopened or the sidebar toggles. Checked in Chromium by
tests/maps/test_area_admin_map.py.
"""

from django import forms
from leaflet.forms.widgets import LeafletWidget


class AreaMapWidget(LeafletWidget):
    include_media = True
    geometry_field_class = "L.GeometryField"
    settings_overrides = {"DEFAULT_ZOOM": 12}

    @property
    def media(self):
        return super().media + forms.Media(
            js=["maps/js/area-map-widget.js"],
            css={"screen": ["maps/css/area-map-widget.css"]},
        )


class RouteMapWidget(AreaMapWidget):
    """A safety walk's route: one line the facilitator draws and reshapes with Leaflet.draw.

    The model field is a LineString, so django-leaflet offers the polyline tool only; drawing a
    new line replaces the old one (the field is not a collection). Leaflet.draw's toolbar and
    tooltips are English in its source; `map-draw-i18n.js` puts them through the admin's
    JavaScript catalogue. Checked in Chromium by tests/maps/test_walk_admin_map.py.
    """

    settings_overrides = {"DEFAULT_ZOOM": 15}

    @property
    def media(self):
        return super().media + forms.Media(js=["maps/js/map-draw-i18n.js"])


class PointMapWidget(RouteMapWidget):
    """One point on a map (a walk's meeting point), placed with Leaflet.draw's marker tool."""
