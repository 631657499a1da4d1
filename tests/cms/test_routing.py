"""Remembered page routes (cms.routing): a page found once is found again with one query, and a
remembered route never serves a page that the tree walk would no longer serve."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction, Site

from cms.routing import site_for_request

PAGE = "/es/chapinero/"
FORM = "/es/chapinero/report/"


def test_second_visit_is_served_from_the_remembered_route(client, consultation):
    first = client.get(FORM)
    assert first.status_code == 200
    assert any(key.startswith(":1:convive:route:") for key in cache._cache)
    again = client.get(FORM)
    assert again.status_code == 200
    assert again.context["page"].pk == consultation.pk
    assert 'name="category"' in again.content.decode()


def test_remembered_route_skips_the_tree_walk(client, consultation):
    def page_queries(browser):
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(PAGE).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    without_memory = [
        name for name in settings.MIDDLEWARE if name != "cms.routing.RouteCacheMiddleware"
    ]
    with override_settings(MIDDLEWARE=without_memory):
        walker = Client()  # a client loads its middleware on its first request
        page_queries(walker)  # warms the other caches (the consultation's rules)
        walked = page_queries(walker)
    page_queries(client)
    remembered = page_queries(client)
    # The walk reads the site, the locale, the home page and each slug's page, then its specific
    # row; remembered, the page is read once, by id.
    assert any('FROM "wagtailcore_site"' in sql for sql in walked)
    assert not any('FROM "wagtailcore_site"' in sql for sql in remembered)
    assert len(remembered) <= len(walked) - 3


def test_unpublished_page_is_no_longer_served(client, consultation):
    assert client.get(PAGE).status_code == 200
    consultation.unpublish()
    assert client.get(PAGE).status_code == 404
    assert client.get(FORM).status_code == 404


def test_renamed_page_moves_to_its_new_path(client, consultation):
    assert client.get(PAGE).status_code == 200
    consultation.slug = "chapinero-norte"
    consultation.save_revision().publish()
    assert client.get(PAGE).status_code == 404
    assert client.get("/es/chapinero-norte/").status_code == 200


def test_old_path_taken_by_another_page_serves_that_page(client, consultation, home):
    assert client.get(PAGE).status_code == 200
    consultation.slug = "chapinero-norte"
    consultation.save_revision().publish()
    newcomer = home.add_child(instance=type(home)(title="Chapinero (archivo)", slug="chapinero"))
    newcomer.save_revision().publish()
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "Chapinero (archivo)" in response.content.decode()


def test_view_restrictions_still_apply_to_a_remembered_route(client, consultation):
    assert client.get(PAGE).status_code == 200
    PageViewRestriction.objects.create(
        page=consultation, restriction_type=PageViewRestriction.LOGIN
    )
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_changing_a_site_forgets_the_remembered_site(rf, consultation):
    request = rf.get(PAGE, HTTP_HOST="localhost")
    assert site_for_request(request).pk == Site.objects.get(is_default_site=True).pk
    site = Site.objects.get(is_default_site=True)
    site.site_name = "Convive Bogotá"
    site.save()
    request = rf.get(PAGE, HTTP_HOST="localhost")
    assert site_for_request(request).site_name == "Convive Bogotá"


def test_routes_are_remembered_per_language(client, consultation, locales):
    # The same path under /es/ and /en/ names two pages: each language keeps its own route.
    english = consultation.copy_for_translation(locales["en"], copy_parents=True)
    english.title = "Chapinero cares"
    english.save_revision().publish()
    for _ in range(2):
        spanish_answer = client.get("/es/chapinero/")
        english_answer = client.get(english.url)
        assert spanish_answer.context["page"].pk == consultation.pk
        assert english_answer.context["page"].pk == english.pk
        assert "Chapinero cares" in english_answer.content.decode()
