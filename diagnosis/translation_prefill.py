"""Translations we already have, handed to wagtail-localize before anyone translates the page.

The question bank carries its items in four languages, and an XLSForm often has labels in
several. When one of them is inserted into a consultation page, the page holds only the page's
own language; the others would otherwise be typed again by a translator. `offer_translations`
records them in wagtail-localize as translations of the page's segments, so that when the
facilitator translates the page (or synchronises an existing translation) those segments arrive
already translated, and stay editable like any other.

wagtail-localize keys a translation by the source string, the target locale and the context (the
page and the segment's path in it), not by a TranslationSource. So the rows can be written before
the page has ever been translated, and its later extraction finds them: `StringSegment.from_value`
gets or creates the same `String` and `TranslationContext` rows we create here.

A translation someone has already made for a segment is never replaced: a re-import or a second
insertion cannot undo a translator's work.
"""

from collections.abc import Mapping

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from wagtail.models import Locale
from wagtail_localize.models import (
    String,
    StringTranslation,
    TranslatableObject,
    Translation,
    TranslationContext,
)
from wagtail_localize.segments import StringSegmentValue
from wagtail_localize.segments.extract import extract_segments
from wagtail_localize.strings import StringValue


def offer_translations(
    page, texts: Mapping[str, Mapping[str, str]], *, user=None, tool: str = ""
) -> int:
    """Record `texts` (`{source text: {language code: translation}}`) for the page's segments.

    Reads the page's latest revision (a draft the facilitator has not published yet included),
    so call it after `save_revision`. Languages that are not a locale of the site, empty
    translations and segments whose text is not a key of `texts` are ignored. `tool` names where
    the wording came from; wagtail-localize shows it beside the segment ("Translated with …").
    Returns how many translations were recorded.
    """
    instance = page.get_latest_revision_as_object().specific
    locales = {
        locale.language_code: locale
        for locale in Locale.objects.exclude(pk=instance.locale_id)
        if locale.language_code
    }
    wanted = {
        source.strip(): {
            code: text.strip()
            for code, text in by_language.items()
            if code in locales and text and text.strip()
        }
        for source, by_language in texts.items()
    }
    if not any(wanted.values()):
        return 0

    recorded = 0
    with transaction.atomic():
        translatable, _created = TranslatableObject.objects.get_or_create_from_instance(instance)
        for segment in extract_segments(instance):
            if not isinstance(segment, StringSegmentValue):
                continue
            translations = wanted.get(segment.string.render_text().strip())
            if not translations:
                continue
            string = String.from_value(instance.locale, segment.string)
            context, _created = TranslationContext.objects.get_or_create(
                object_id=translatable.pk, path=segment.path
            )
            for code, text in translations.items():
                _translation, created = StringTranslation.objects.get_or_create(
                    translation_of=string,
                    locale=locales[code],
                    context=context,
                    defaults={
                        "data": StringValue.from_plaintext(text).data,
                        "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL,
                        "tool_name": tool,
                        "last_translated_by": user,
                    },
                )
                recorded += created
    return recorded


def synchronised_source(page):
    """The page `page` is a wagtail-localize translation of, while it is kept in sync; else None.

    Such a translation is rebuilt from its source at every synchronisation, so tools that add
    content (the question bank, the XLSForm import) must write to the source instead: what they
    wrote into the translation would be lost at the next sync.
    """
    job = (
        Translation.objects.filter(
            source__object_id=page.translation_key, target_locale_id=page.locale_id, enabled=True
        )
        .select_related("source")
        .first()
    )
    if job is None:
        return None
    try:
        return job.source.get_source_instance().specific
    except ObjectDoesNotExist:
        return None
