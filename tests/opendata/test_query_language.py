"""?lang= on pages without a language prefix (cms.middleware.QueryLanguageMiddleware)."""

import re

from django.utils import translation
from django.utils.translation import gettext


def test_the_features_pages_follow_lang_and_keep_it_in_their_links(client, open_site):
    response = client.get("/api/features/?f=html&lang=fr", headers={"Accept-Language": "es"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    # The language links switch with ?lang=, staying on the same page.
    assert 'href="/api/features/?f=html&amp;lang=pt"' in html
    # Links to other resources keep the reader's language.
    data = client.get("/api/features/collections?f=json&lang=fr").json()
    hrefs = [link["href"] for link in data["links"]]
    assert hrefs and all("lang=fr" in href for href in hrefs)


def test_lang_sets_the_language_of_api_messages(client, open_site):
    message = "Unknown parameter: %(names)s. This resource accepts: %(allowed)s."
    for code in ("en", "fr"):
        response = client.get(
            f"/api/features/collections?foo=1&lang={code}", headers={"Accept-Language": "es"}
        )
        assert response.status_code == 400
        with translation.override(code):
            expected = gettext(message) % {"names": "foo", "allowed": "f, lang"}
        assert expected in response.content.decode()


def test_prefixed_pages_ignore_lang(client, open_site):
    response = client.get("/es/open-data/?lang=fr")
    assert response.status_code == 200
    assert re.search(r'<html lang="es">', response.content.decode())
