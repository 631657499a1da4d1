"""Site-wide behaviour: settings safe for production, languages, health check."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, settings_module, extra_env=None):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **(extra_env or {})}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings_module="cms.settings.production",
        extra_env={"SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "convive.example.org"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "cms.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_suppression_threshold_below_three_is_a_configuration_error():
    from cms.checks import suppression_threshold

    with override_settings(CONVIVE_SUPPRESSION_K=2):
        errors = suppression_threshold(None)
    assert [e.id for e in errors] == ["convive.E001"]


@pytest.mark.django_db
def test_health_check_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_every_language_has_its_url_prefix(client, home):
    for code in ("es", "en", "fr", "pt"):
        response = client.get(f"/{code}/jsi18n/")
        assert response.status_code == 200


@pytest.mark.django_db
def test_language_switcher_keeps_the_resident_on_the_same_consultation(
    client, consultation, locales
):
    english = consultation.copy_for_translation(locales["en"], copy_parents=True)
    english.title = "Chapinero looks after itself"
    english.save_revision().publish()
    response = client.get("/es/chapinero/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{english.url}"' in html
    assert 'hreflang="en"' in html


@pytest.mark.django_db
def test_a_home_in_another_language_still_lists_untranslated_consultations(
    client, consultation, locales
):
    response = client.get("/pt/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chapinero se cuida" in html
    assert f'href="{consultation.url}"' in html
    assert 'hreflang="es"' in html
