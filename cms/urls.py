from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    # Open data (docs/open-data.md). Not under a language prefix: machines call these, and the
    # language of messages and labels follows Accept-Language (or ?lang=).
    path("open311/", include("diagnosis.open311_urls")),
    path("api/features/", include("cms.features_urls")),
    path("api/exports/", include("diagnosis.open_data_urls")),
    path("api/schema/", views.openapi_schema, name="openapi-schema"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Public pages live under a language prefix (/es/, /en/, /fr/, /pt/); Wagtail serves the page tree.
urlpatterns += i18n_patterns(
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("walks/", include("maps.walk_urls")),
    path("walks/", include("maps.report_urls")),
    path("open-data/", include("diagnosis.open_data_page_urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
