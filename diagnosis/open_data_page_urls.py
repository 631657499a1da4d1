"""Placeholder: filled in by the open-data work (issue 8)."""

urlpatterns: list = []
