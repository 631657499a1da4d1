"""Map widgets for the Wagtail admin.

Wagtail renders panels through Telepath and does not include a widget's media unless the widget says
so; django-leaflet's admin widget then shows an empty box. `include_media = True` makes Leaflet's
CSS/JS load with the form, so the map really draws (checked in Chromium by tests/maps).
"""

from leaflet.forms.widgets import LeafletWidget


class AreaMapWidget(LeafletWidget):
    include_media = True
    geometry_field_class = "L.GeometryField"
    settings_overrides = {"DEFAULT_ZOOM": 12}
