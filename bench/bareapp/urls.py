from django.urls import path

from cms.urls import urlpatterns as project_urlpatterns

from .views import bare_submit

urlpatterns = [path("bench/bare/", bare_submit), *project_urlpatterns]
