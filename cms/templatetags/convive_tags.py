"""Template helpers for the site chrome."""

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.html import format_html
from django.utils.translation import get_language

from cms.machine_translation import machine_translation_of

register = template.Library()


@register.inclusion_tag("cms/includes/language_links.html", takes_context=True)
def language_links(context):
    """Links to the current page in every language.

    On a Wagtail page, each language links to that page's translation when one exists (so a resident
    stays on the same consultation), else to that language's home. Elsewhere Django's
    `translate_url` swaps the language prefix, and a page without one gets `?lang=`.
    """
    request = context.get("request")
    page = context.get("page")
    current = get_language()
    translations = {}
    if page is not None and hasattr(page, "get_translations"):
        for translation in page.get_translations(inclusive=True).live().select_related("locale"):
            translations[translation.locale.language_code] = translation.get_url(request)
    links = []
    for code, name in settings.LANGUAGES:
        if code in translations:
            url = translations[code]
        elif page is not None:
            url = f"/{code}/"
        elif request is None:
            url = f"/{code}/"
        else:
            url = translate_url(request.get_full_path(), code)
            if url == request.get_full_path() and not request.path.startswith(f"/{current}/"):
                # A page without a language prefix (the OGC API's HTML): ?lang= chooses
                # (cms.middleware.QueryLanguageMiddleware).
                query = request.GET.copy()
                query["lang"] = code
                url = f"{request.path}?{query.urlencode()}"
        links.append({"code": code, "name": name, "url": url, "current": code == current})
    return {"links": links}


@register.inclusion_tag("cms/includes/machine_translation_notice.html", takes_context=True)
def machine_translation_notice(context):
    """A notice on pages whose wording is (partly) a machine translation, linking the original."""
    page = context.get("page")
    found = machine_translation_of(page) if page is not None else None
    if found is None:
        return {"notice": False}
    original = found.original
    return {
        "notice": True,
        "original_url": original.get_url(context.get("request")) if original else "",
        # The language's own name, marked as being in that language for screen readers.
        "original_language": format_html(
            '<span lang="{}">{}</span>',
            original.locale.language_code,
            original.locale.get_display_name(),
        )
        if original
        else "",
    }
