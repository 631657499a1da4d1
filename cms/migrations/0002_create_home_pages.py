"""Replace Wagtail's welcome page with Convive's home page, in every content language.

A fresh install then has a working site at /es/, /en/, /fr/ and /pt/ without touching the admin.
Historical models do not know treebeard, so tree paths are computed here the way treebeard does
(four base-36 characters per level), as Wagtail's own project template does.
"""

import uuid

from django.db import migrations

LANGUAGES = ("es", "en", "fr", "pt")
SOURCE_LANGUAGE = "es"
STEPLEN = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

HOME_PAGES = {
    "es": (
        "inicio",
        "<p>Convive es el espacio donde vecinas y vecinos cuentan qué les hace sentir inseguros "
        "en su barrio y qué lugares les protegen. Con esas voces construimos, junto con la "
        "alcaldía, un diagnóstico participativo de la convivencia y la seguridad ciudadana, y "
        "seguimos los compromisos que se asumen.</p>",
    ),
    "en": (
        "home",
        "<p>Convive is where residents say what makes them feel unsafe in their neighbourhood and "
        "which places keep them safe. From their voices we build, together with the local "
        "government, a participatory diagnosis of community safety, and we follow up on the "
        "commitments that come out of it.</p>",
    ),
    "fr": (
        "accueil",
        "<p>Convive est l’espace où les habitantes et les habitants disent ce qui les fait se "
        "sentir en insécurité dans leur quartier et quels lieux les protègent. À partir de leurs "
        "voix, nous construisons avec la municipalité un diagnostic participatif de la sécurité "
        "et du vivre-ensemble, et nous suivons les engagements qui en découlent.</p>",
    ),
    "pt": (
        "inicio-pt",
        "<p>O Convive é o espaço onde moradoras e moradores contam o que os faz sentir inseguros "
        "no bairro e quais lugares os protegem. A partir dessas vozes construímos, junto com a "
        "prefeitura, um diagnóstico participativo da segurança cidadã e da convivência, e "
        "acompanhamos os compromissos assumidos.</p>",
    ),
}


def _path_increment(path: str) -> str:
    """The next sibling path after `path` (treebeard's MP_Node._inc_path)."""
    key = path[-STEPLEN:]
    value = 0
    for char in key:
        value = value * len(ALPHABET) + ALPHABET.index(char)
    value += 1
    digits = ""
    while value:
        value, rest = divmod(value, len(ALPHABET))
        digits = ALPHABET[rest] + digits
    return path[:-STEPLEN] + digits.rjust(STEPLEN, "0")


def create_home_pages(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Locale = apps.get_model("wagtailcore", "Locale")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("cms", "HomePage")

    locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in LANGUAGES}

    root = Page.objects.filter(depth=1).order_by("path").first()
    if root is None:  # a database without Wagtail's initial data: nothing to attach to
        return
    home_type, _ = ContentType.objects.get_or_create(app_label="cms", model="homepage")
    if Page.objects.filter(content_type=home_type).exists():
        return

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        site = Site.objects.create(
            hostname="localhost", port=80, is_default_site=True, root_page=root
        )
    # Point the site at the root first: deleting its page would otherwise delete the site too.
    site.root_page = root
    site.save()

    page_type = ContentType.objects.get(app_label="wagtailcore", model="page")
    Page.objects.filter(content_type=page_type, slug="home", depth=2, numchild=0).delete()

    siblings = Page.objects.filter(depth=2, path__startswith=root.path).order_by("-path")
    last = siblings.values_list("path", flat=True).first()
    path = _path_increment(last) if last else root.path + "1".rjust(STEPLEN, "0")

    translation_key = uuid.uuid4()
    for code in LANGUAGES:
        slug, intro = HOME_PAGES[code]
        home = HomePage.objects.create(
            title="Convive",
            draft_title="Convive",
            slug=slug,
            intro=intro,
            content_type=home_type,
            path=path,
            depth=2,
            numchild=0,
            url_path=f"/{slug}/",
            locale=locales[code],
            translation_key=translation_key,
            live=True,
            has_unpublished_changes=False,
        )
        if code == SOURCE_LANGUAGE:
            site.root_page_id = home.pk
            site.save()
        path = _path_increment(path)

    Page.objects.filter(pk=root.pk).update(
        numchild=Page.objects.filter(depth=2, path__startswith=root.path).count()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        # Reversing keeps the pages: they may already have consultations under them.
        migrations.RunPython(create_home_pages, migrations.RunPython.noop),
    ]
