"""The translation catalogues: complete, safe to format, and actually used by the site.

A resident who reads Spanish must never meet an English sentence, and a translation that drops or
renames a placeholder would crash the page that formats it (``%`` raises ``KeyError``), so every
entry is checked, not sampled. The catalogues are compiled here with ``msgfmt --check`` into a
temporary folder, so the tests judge the ``.po`` files as they are, whether or not ``make messages``
has run.
"""

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
import wagtail
import wagtail_localize
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
LANGUAGES = ("es", "en", "fr", "pt")
DOMAINS = ("django", "djangojs")
CATALOGUES = [(lang, domain) for lang in LANGUAGES for domain in DOMAINS]
PLURAL_FORMS = {
    "es": "nplurals=2; plural=(n != 1);",
    "en": "nplurals=2; plural=(n != 1);",
    "pt": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
}
# The glossary in docs/translation.md: "Report a concern" in each language.
REPORT_A_CONCERN = {
    "es": "Hacer un reporte",
    "pt": "Fazer um relato",
    "fr": "Faire un signalement",
    "en": "Report a concern",
}

# Our catalogue is searched before every app's (LOCALE_PATHS comes first), so a msgid we share with
# Wagtail replaces Wagtail's own word all over the admin. Shared words must therefore keep Wagtail's
# translation, except these, which mean something else here and wait for a context
# (pgettext) in the source, as listed in docs/translation.md.
WAGTAIL_WORDS_WE_OVERRIDE: set[str] = set()
WAGTAIL_PACKAGES = (Path(wagtail.__file__).parent, Path(wagtail_localize.__file__).parent)
WAGTAIL_LANGUAGE_DIRS = {"es": "es", "fr": "fr", "pt": "pt_BR"}

# %(name)s / %(name)d, bare %s / %d, and {name} / {} (str.format); "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]|%[a-z]|\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def catalogue(lang, domain):
    return polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"))


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def tags(text):
    return sorted(TAG.findall(text))


def label(entry):
    return f"line {entry.linenum}: {entry.msgid!r}"


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_every_entry_is_translated_and_none_is_fuzzy(lang, domain):
    po = catalogue(lang, domain)
    assert len(po) > 0
    assert [label(e) for e in po.untranslated_entries()] == []
    assert [label(e) for e in po.fuzzy_entries()] == []
    assert not po.metadata_is_fuzzy


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_headers_name_the_language_and_its_plural_rule(lang, domain):
    metadata = catalogue(lang, domain).metadata
    assert metadata["Language"] == lang
    assert metadata["Project-Id-Version"] == "Convive"
    assert metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert metadata["Plural-Forms"] == PLURAL_FORMS[lang]


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_translations_keep_every_placeholder_and_tag(lang, domain):
    problems = []
    for entry in catalogue(lang, domain).translated_entries():
        if entry.msgid_plural:
            # Form 0 is the singular (and French zero), form 1 the plural, for all four languages.
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translated in pairs:
            if placeholders(source) != placeholders(translated):
                problems.append(f"{label(entry)} placeholders {placeholders(translated)}")
            if tags(source) != tags(translated):
                problems.append(f"{label(entry)} tags {tags(translated)}")
    assert problems == []


@pytest.mark.parametrize("lang", sorted(WAGTAIL_LANGUAGE_DIRS))
def test_words_shared_with_wagtail_keep_wagtails_translation(lang):
    # Entries with a context (pgettext) never override Wagtail's context-free ones.
    ours = {
        e.msgid: e.msgstr for e in catalogue(lang, "django") if not e.msgid_plural and not e.msgctxt
    }
    changed = set()
    for package in WAGTAIL_PACKAGES:
        pattern = f"**/locale/{WAGTAIL_LANGUAGE_DIRS[lang]}/LC_MESSAGES/django.po"
        for path in package.glob(pattern):
            for entry in polib.pofile(str(path)):
                mine = ours.get(entry.msgid)
                if entry.msgctxt or entry.msgid_plural or not entry.msgstr or mine is None:
                    continue
                if mine != entry.msgstr and entry.msgid not in WAGTAIL_WORDS_WE_OVERRIDE:
                    changed.add(f"{entry.msgid!r}: Wagtail {entry.msgstr!r}, ours {mine!r}")
    assert sorted(changed) == []


@pytest.fixture(scope="module")
def compiled_locale(tmp_path_factory):
    """Every catalogue compiled with msgfmt's own checks (format strings, headers, plurals)."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt is missing: install gettext (make system-deps)"
    out = tmp_path_factory.mktemp("locale")
    for lang, domain in CATALOGUES:
        target = out / lang / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(  # noqa: S603
            [
                msgfmt,
                "--check",
                "-o",
                str(target / f"{domain}.mo"),
                str(LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{lang}/{domain}: {result.stderr}"
    return out


@pytest.fixture
def site_catalogues(settings, compiled_locale):
    # Changing LOCALE_PATHS makes Django drop its cached translations (django.test.signals).
    settings.LOCALE_PATHS = [compiled_locale]
    return compiled_locale


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_known_string_is_translated(site_catalogues, lang):
    with translation.override(lang):
        assert translation.gettext("Report a concern") == REPORT_A_CONCERN[lang]


def test_plural_forms_follow_each_language(site_catalogues):
    message = ("%(count)d concern approved.", "%(count)d concerns approved.")
    with translation.override("es"):
        assert translation.ngettext(*message, 0) == "%(count)d reportes aprobados."
    with translation.override("pt"):
        assert translation.ngettext(*message, 2) == "%(count)d relatos aprovados."
    with translation.override("fr"):
        # French counts zero as singular.
        assert translation.ngettext(*message, 0) == "%(count)d signalement approuvé."


@pytest.mark.django_db
def test_the_spanish_consultation_page_speaks_spanish(site_catalogues, client, consultation):
    response = client.get("/es/chapinero/")
    assert response.status_code == 200
    html = response.content.decode()
    assert REPORT_A_CONCERN["es"] in html
    assert "Report a concern" not in html


@pytest.mark.django_db
def test_the_javascript_catalogue_serves_translations_and_plural_rule(site_catalogues, client):
    spanish = client.get("/es/jsi18n/").content.decode()
    assert "%(n)s reportes" in spanish
    french = client.get("/fr/jsi18n/").content.decode()
    assert "%(n)s signalements" in french
    assert "(n > 1)" in french
