"""Telling readers when what they read was translated by a machine.

wagtail-localize can fill a translation with a machine translator (DeepL, LibreTranslate…, see
`WAGTAILLOCALIZE_MACHINE_TRANSLATOR` in the settings). Each translated segment keeps how it was
made (`StringTranslation.translation_type`); a translator who edits a segment, or uploads a PO
file, makes it "manual". A resident must know when the consultation they are answering was worded
by a machine, because a mistranslated question changes what is measured, and should be able to
read the original: `machine_translation_of(page)` says whether any segment the page currently
uses is still machine-made, and which page is the original.

The answer is cached per page and revision: publishing the translation again (which is how a
corrected translation reaches the public) gives it a new revision and so a new key.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Exists, OuterRef
from wagtail.models import Page
from wagtail_localize.models import StringSegment, StringTranslation, Translation

CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class MachineTranslation:
    """A page worded (at least in part) by a machine, and the page it was translated from."""

    original: Page | None


def _machine_segments_exist(translation: Translation) -> bool:
    machine = StringTranslation.objects.filter(
        locale_id=translation.target_locale_id,
        translation_type=StringTranslation.TRANSLATION_TYPE_MACHINE,
        translation_of_id=OuterRef("string_id"),
        context_id=OuterRef("context_id"),
    )
    return (
        StringSegment.objects.filter(source_id=translation.source_id)
        .filter(Exists(machine))
        .exists()
    )


def _lookup(page: Page) -> int | None:
    """The id of the original page when this page has machine-made segments, else None."""
    translation = (
        Translation.objects.filter(
            source__object_id=page.translation_key, target_locale_id=page.locale_id
        )
        .select_related("source")
        .first()
    )
    if translation is None or not _machine_segments_exist(translation):
        return None
    original = (
        Page.objects.live()
        .filter(translation_key=page.translation_key, locale_id=translation.source.locale_id)
        .values_list("pk", flat=True)
        .first()
    )
    return original or 0


def machine_translation_of(page: Page) -> MachineTranslation | None:
    """None for a page a person wrote or translated; else the notice's facts."""
    if not getattr(page, "translation_key", None) or not page.pk:
        return None
    key = f"convive:machine-translated:{page.pk}:{page.latest_revision_id}"
    original_id = cache.get(key, default=-1)
    if original_id == -1:
        original_id = _lookup(page)
        cache.set(key, original_id, CACHE_SECONDS)
    if original_id is None:
        return None
    original = Page.objects.filter(pk=original_id).select_related("locale").first()
    return MachineTranslation(original=original.specific if original else None)
