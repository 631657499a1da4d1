"""Safety walks in the field: the recording page, its offline worker, and the stops endpoint.

Mounted under the language prefix at /<lang>/walks/ (cms/urls.py).
"""

app_name = "walks"
urlpatterns: list = []
