"""The OpenAPI document at /api/schema/, and schemathesis run against it.

schemathesis generates requests from the document (valid and invalid parameters, odd strings,
boundary numbers) and checks each response: no server error, a status code, content type and body
that the document declares. It runs in-process through the WSGI application, inside the test's
transaction, against a site holding every kind of public and private data (`open_site`).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import translation
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Examples per operation: enough for schemathesis to try missing, malformed and boundary values
# of every parameter, few enough to keep the suite fast (derandomized, so CI is repeatable).
EXAMPLES = 30


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, as in production;
    the test's data lives in an open transaction, so keep it (as Django's test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema():
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def test_the_document_is_served_as_openapi_3(client, open_site):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    assert document["openapi"].startswith("3.0")
    assert document["servers"] == [{"url": "http://testserver"}]
    paths = document["paths"]
    consultation = open_site["diagnosed"]["page"].get_parent().specific
    results = open_site["diagnosed"]["page"]
    # Every family of JSON endpoint is described, with the real paths of the live pages.
    for path in (
        "/healthz",
        "/{lang}/walks/{uuid}/stops.geojson",
        consultation.url + "map/features/",
        consultation.url + "map/areas/",
        results.url + "map/",
        results.url + "download/geojson/",
    ):
        assert path in paths, path


def test_the_document_is_valid(open_site):
    _schema().validate()


def _operations():
    schema = _schema()
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.django_db(transaction=False)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(open_site):
    failures: list[str] = []
    tried = 0
    for operation in _operations():
        tried += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            # The in-process WSGI transport does not undo Content-Encoding as HTTP clients do;
            # the map endpoints gzip for clients that accept it, so ask for plain bodies.
            case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})

        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {error}")
    # Open311 (16: JSON and XML), OGC API – Features (18), exports, the site's own endpoints.
    assert tried >= 16 + 18 + 3 + 6
    assert not failures, "\n\n".join(failures)


# The Open311 operation and the export operation whose summaries show the document's language.
OPEN311_SUMMARY = ("/open311/v2/requests.json", "get", "Service requests")
EXPORT_SUMMARY = ("/api/exports/", "post", "Ask for an export file")


def _summaries(client, path, **headers):
    paths = client.get(path, **headers).json()["paths"]
    return [
        paths[url][method]["summary"] for url, method, _msgid in (OPEN311_SUMMARY, EXPORT_SUMMARY)
    ]


@pytest.mark.parametrize(
    ("path", "accept_language"),
    [("/api/schema/?lang=es", "en"), ("/api/schema/", "es")],
    ids=["lang-parameter", "accept-language"],
)
def test_the_document_speaks_spanish_when_asked(client, consultation, path, accept_language):
    with translation.override("es"):
        expected = [
            f"{translation.gettext(OPEN311_SUMMARY[2])} (JSON)",
            translation.gettext(EXPORT_SUMMARY[2]),
        ]
    # Translated, not the English msgid served back.
    assert expected[0] != f"{OPEN311_SUMMARY[2]} (JSON)"
    assert expected[1] != EXPORT_SUMMARY[2]
    assert _summaries(client, path, HTTP_ACCEPT_LANGUAGE=accept_language) == expected


def test_the_document_speaks_english_with_lang_en(client, consultation):
    summaries = _summaries(client, "/api/schema/?lang=en", HTTP_ACCEPT_LANGUAGE="es")
    assert summaries == [f"{OPEN311_SUMMARY[2]} (JSON)", EXPORT_SUMMARY[2]]
