"""Per-client submission limits that keep no address."""

import pickle

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from diagnosis.models import Concern
from maps.ratelimit import client_address, client_key, rate_parse
from tests.diagnosis.conftest import form_data

URL = "/es/chapinero/report/"
limited = override_settings(CONVIVE_RATE_LIMIT_ENABLED=True, CONVIVE_RATE_LIMIT="2/60")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def post(client, categories, **extra):
    return client.post(URL, form_data(categories), **extra)


def cache_contents() -> list[tuple[str, bytes]]:
    """Every key and raw stored value in the local-memory cache the tests run with."""
    return [(key, value) for key, value in cache._cache.items()]


@limited
def test_over_the_limit_is_429_with_retry_after(client, consultation, categories):
    assert post(client, categories).status_code == 303
    assert post(client, categories).status_code == 303
    response = post(client, categories)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Has enviado muchos reportes en poco tiempo" in response.content.decode()
    assert Concern.objects.count() == 2


@limited
def test_no_raw_address_is_kept_in_the_cache(client, consultation, categories):
    for _ in range(3):
        post(client, categories, REMOTE_ADDR="203.0.113.77")
    contents = cache_contents()
    assert contents
    for key, value in contents:
        assert "203.0.113.77" not in key
        assert b"203.0.113.77" not in value
        assert "203.0.113.77" not in repr(pickle.loads(value))  # noqa: S301 — our own cache


@limited
def test_clients_are_counted_separately(client, consultation, categories):
    for _ in range(2):
        post(client, categories, REMOTE_ADDR="198.51.100.1")
    assert post(client, categories, REMOTE_ADDR="198.51.100.1").status_code == 429
    assert post(client, categories, REMOTE_ADDR="198.51.100.2").status_code == 303


@limited
def test_refused_attempts_count_too(client, consultation, categories):
    # Errors are counted, so a script cannot probe the form without limit.
    client.post(URL, {"category": ""})
    client.post(URL, {"category": ""})
    assert post(client, categories).status_code == 429


@limited
def test_reading_the_form_is_never_limited(client, consultation, categories):
    for _ in range(5):
        assert client.get(URL).status_code == 200


@limited
def test_facilitators_are_exempt(client, consultation, categories):
    user = get_user_model().objects.create_superuser("facilitator", "f@example.org", "pw")
    client.force_login(user)
    for _ in range(3):
        assert post(client, categories).status_code == 303
    assert Concern.objects.count() == 3


@override_settings(CONVIVE_RATE_LIMIT_ENABLED=False, CONVIVE_RATE_LIMIT="1/60")
def test_disabled_limit_lets_everything_through(client, consultation, categories):
    for _ in range(3):
        assert post(client, categories).status_code == 303


def test_key_is_a_truncated_hash_that_changes_every_day():
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10")
    monday = client_key(request, now=1_700_000_000)
    same_day = client_key(request, now=1_700_000_000 + 60)
    next_day = client_key(request, now=1_700_000_000 + 86_400)
    assert monday == same_day != next_day
    assert len(monday) == 32 and "192.0.2.10" not in monday
    other = client_key(RequestFactory().get("/", REMOTE_ADDR="192.0.2.11"), now=1_700_000_000)
    assert other != monday


def test_proxy_header_is_ignored_unless_trusted():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9"
    )
    assert client_address(request) == "10.0.0.1"
    with override_settings(CONVIVE_TRUSTED_PROXY_HEADER="X-Forwarded-For"):
        # The right-most entry is the one our own proxy added; the rest the client could forge.
        assert client_address(request) == "198.51.100.9"


@pytest.mark.parametrize(
    ("value", "expected"), [("20/3600", (20, 3600)), ("5/60", (5, 60)), ("junk", (20, 3600))]
)
def test_rate_setting_is_parsed_and_never_means_unlimited(value, expected):
    assert rate_parse(value) == expected
