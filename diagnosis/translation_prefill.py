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

    with transaction.atomic():
        translatable, _created = TranslatableObject.objects.get_or_create_from_instance(instance)
        # The page's segments that have translations to offer, with their string's hash and
        # their context's path id: one query per table below instead of one per segment.
        segments = []
        for segment in extract_segments(instance):
            if not isinstance(segment, StringSegmentValue):
                continue
            translations = wanted.get(segment.string.render_text().strip())
            if translations:
                data = segment.string.data
                segments.append((String._get_data_hash(data), data, segment.path, translations))
        if not segments:
            return 0

        hashes = {data_hash: data for data_hash, data, _path, _t in segments}
        String.objects.bulk_create(
            [String(locale=instance.locale, data_hash=h, data=d) for h, d in hashes.items()],
            ignore_conflicts=True,
        )
        strings = {
            s.data_hash: s
            for s in String.objects.filter(locale=instance.locale, data_hash__in=hashes)
        }
        paths = {TranslationContext._get_path_id(path): path for _h, _d, path, _t in segments}
        TranslationContext.objects.bulk_create(
            [
                TranslationContext(object=translatable, path_id=path_id, path=path)
                for path_id, path in paths.items()
            ],
            ignore_conflicts=True,
        )
        contexts = {
            c.path: c
            for c in TranslationContext.objects.filter(object=translatable, path_id__in=paths)
        }
        existing = set(
            StringTranslation.objects.filter(
                translation_of__in=strings.values(), context__in=contexts.values()
            ).values_list("translation_of_id", "context_id", "locale_id")
        )
        new = []
        for data_hash, _data, path, translations in segments:
            string, context = strings[data_hash], contexts[path]
            for code, text in translations.items():
                key = (string.pk, context.pk, locales[code].pk)
                if key in existing:
                    continue  # a translator's work is never replaced
                existing.add(key)
                new.append(
                    StringTranslation(
                        translation_of=string,
                        locale=locales[code],
                        context=context,
                        data=StringValue.from_plaintext(text).data,
                        translation_type=StringTranslation.TRANSLATION_TYPE_MANUAL,
                        tool_name=tool,
                        last_translated_by=user,
                    )
                )
        StringTranslation.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


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
