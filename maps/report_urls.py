"""Published safety-walk reports and their exports, under /<lang>/walks/ (cms/urls.py)."""

app_name = "walk_reports"
urlpatterns: list = []
