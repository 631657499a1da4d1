"""Participation: concern categories, residents' concerns, and (in pages.py) consultations."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.panels import FieldPanel
from wagtail.models import TranslatableMixin
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField, TranslatableField

from maps.codes import new_code, new_reference
from maps.demography import AgeBand
from maps.models import ModerationStatus


class PreventionType(models.TextChoices):
    SITUATIONAL = "situational", _("Situational")
    SOCIAL = "social", _("Social")
    COMMUNITY = "community", _("Community")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial")


class ConcernCategory(TranslatableMixin, index.Indexed, models.Model):
    """What a concern is about — a risk, or an asset that makes residents safer.

    A translatable snippet: each language has its own row, tied by `translation_key`. Concerns are
    always counted by that key, so "Poor lighting" and "Alumbrado deficiente" are one category.
    Sensitive categories (domestic violence, violence against children) are never shown as points.
    """

    class Kind(models.TextChoices):
        RISK = "risk", _("Risk (something that makes people feel unsafe)")
        ASSET = "asset", _("Asset (a place or service that makes people safer)")

    class Icon(models.TextChoices):
        LIGHT = "light", pgettext_lazy("category icon", "Light")
        BUILDING = "building", pgettext_lazy("category icon", "Building")
        BROOM = "broom", pgettext_lazy("category icon", "Maintenance")
        PATH = "path", pgettext_lazy("category icon", "Path")
        PERSON = "person", pgettext_lazy("category icon", "Person")
        WALLET = "wallet", pgettext_lazy("category icon", "Wallet")
        PILL = "pill", pgettext_lazy("category icon", "Drugs")
        BOTTLE = "bottle", pgettext_lazy("category icon", "Alcohol")
        GROUP = "group", pgettext_lazy("category icon", "Group")
        CAR = "car", pgettext_lazy("category icon", "Traffic")
        BADGE = "badge", pgettext_lazy("category icon", "Police")
        HOME = "home", pgettext_lazy("category icon", "Home")
        CHILD = "child", pgettext_lazy("category icon", "Child")
        HOUSE_HEART = "house-heart", pgettext_lazy("category icon", "Community centre")
        SHOP = "shop", pgettext_lazy("category icon", "Shop")
        SCHOOL = "school", pgettext_lazy("category icon", "School")
        BALL = "ball", pgettext_lazy("category icon", "Sports")
        HEALTH = "health", pgettext_lazy("category icon", "Health")
        PIN = "pin", pgettext_lazy("category icon", "Other")

    code = models.SlugField(
        _("code"),
        max_length=60,
        help_text=_("Stable identifier shared by every translation, e.g. poor-lighting."),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    icon = models.CharField(_("icon"), max_length=20, choices=Icon.choices, default=Icon.PIN)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.RISK)
    prevention_type = models.CharField(
        _("prevention type"), max_length=20, choices=PreventionType.choices
    )
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_(
            "Domestic, sexual and gender-based violence or anything involving a child: never shown "
            "as a point, only as area totals of at least 5."
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("code"),
        FieldPanel("kind"),
        FieldPanel("prevention_type"),
        FieldPanel("icon"),
        FieldPanel("sensitive"),
        FieldPanel("sort_order"),
    ]
    translatable_fields = [
        TranslatableField("name"),
        TranslatableField("description"),
        SynchronizedField("code"),
        SynchronizedField("icon"),
        SynchronizedField("kind"),
        SynchronizedField("prevention_type"),
        SynchronizedField("sensitive"),
        SynchronizedField("sort_order"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("concern category")
        verbose_name_plural = _("concern categories")
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["code", "locale"], name="unique_category_code_locale")
        ]

    def __str__(self):
        return self.name


def concern_photo_path(instance, filename):
    # The name carries no resident data: a random UUID in a month folder.
    return f"concerns/{instance.submitted_at:%Y/%m}/{uuid.uuid4().hex}.jpg"


def new_public_id() -> str:
    """A concern's public identifier in open data: 10 random characters (32¹⁰ ≈ 10¹⁵)."""
    return new_code(10)


class Concern(models.Model):
    """Something a resident reported: what, where, when, who is affected.

    Privacy rules live in the fields themselves: no IP address or user agent is stored; the exact
    point is kept for analysis but the public only ever sees `public_point`, snapped to the public
    grid at write time (`cell_x`, `cell_y` are that grid's integer indices, used for aggregation).
    A concern belongs to its consultation and category by *translation key*, whichever language
    version the resident saw.
    """

    class TimeBand(models.TextChoices):
        MORNING = "morning", _("Morning (6–12 h)")
        AFTERNOON = "afternoon", _("Afternoon (12–18 h)")
        EVENING = "evening", _("Evening (18–22 h)")
        NIGHT = "night", _("Night (22–6 h)")
        ANY = "any", _("At any time")

    class DayType(models.TextChoices):
        WEEKDAY = "weekday", _("Weekdays")
        WEEKEND = "weekend", _("Weekends")
        BOTH = "both", _("Every day")

    class Frequency(models.TextChoices):
        ONCE = "once", _("It happened once")
        SOMETIMES = "sometimes", _("Sometimes")
        OFTEN = "often", _("Often")
        ALWAYS = "always", _("All the time")

    class Affected(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        WOMEN = "women", _("Women and girls")
        CHILDREN = "children", _("Children")
        YOUTH = "youth", _("Young people")
        OLDER = "older", _("Older people")
        DISABLED = "disabled", _("People with disabilities")
        LGBTI = "lgbti", _("LGBTI people")
        MIGRANTS = "migrants", _("Migrants")
        ME = "me", _("Me")

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        NON_BINARY = "non-binary", _("Non-binary")
        OTHER = "other", _("I describe myself another way")
        UNSAID = "unsaid", _("Prefer not to say")

    class Source(models.TextChoices):
        ONLINE = "online", _("Online, by the resident")
        FACILITATOR = "facilitator", _("By a facilitator on a resident's behalf")
        PAPER = "paper", _("From a paper form")
        OPEN311 = "open311", _("From another reporting app (Open311)")
        IMPORT = "import", _("Imported from a file")

    # The same states and words as every moderated contribution (walk stops too).
    Status = ModerationStatus

    # Whose consultation and which category — by row (what was shown) and by key (what counts).
    consultation = models.ForeignKey(
        "diagnosis.ConsultationPage",
        verbose_name=_("consultation"),
        on_delete=models.PROTECT,
        related_name="concerns",
    )
    # Indexed as the first column of concern_public_cells below.
    consultation_key = models.UUIDField(editable=False)
    category = models.ForeignKey(
        ConcernCategory, verbose_name=_("category"), on_delete=models.PROTECT
    )
    category_key = models.UUIDField(editable=False)
    description = models.TextField(_("what happens"), max_length=2000, blank=True)

    # Where.
    point = models.PointField(_("exact point"), srid=4326, null=True, blank=True)
    area = models.ForeignKey(
        "maps.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="concerns",
    )
    place_description = models.CharField(_("place"), max_length=300, blank=True)
    # Read by cell indices (cell_x, cell_y), never by spatial queries: no GiST index to maintain.
    public_point = models.PointField(
        _("public location"), srid=4326, null=True, blank=True, spatial_index=False
    )
    cell_x = models.IntegerField(null=True, blank=True, editable=False)
    cell_y = models.IntegerField(null=True, blank=True, editable=False)

    # When and who.
    time_band = models.CharField(_("when"), max_length=12, choices=TimeBand.choices, blank=True)
    day_type = models.CharField(_("which days"), max_length=10, choices=DayType.choices, blank=True)
    frequency = models.CharField(
        _("how often"), max_length=10, choices=Frequency.choices, blank=True
    )
    affected = models.JSONField(_("who is affected"), default=list, blank=True)
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    gender_description = models.CharField(_("gender, in your words"), max_length=60, blank=True)
    age_band = models.CharField(
        _("age"),
        max_length=10,
        choices=[*AgeBand.choices, ("unsaid", _("Prefer not to say"))],
        blank=True,
    )

    photo = models.ImageField(_("photo"), upload_to=concern_photo_path, null=True, blank=True)
    photo_thumbnail = models.ImageField(upload_to="concerns/thumbs/", null=True, blank=True)

    # Provenance.
    source = models.CharField(
        _("source"), max_length=12, choices=Source.choices, default=Source.ONLINE
    )
    language = models.CharField(_("language"), max_length=10)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reference = models.CharField(
        _("reference code"), max_length=9, unique=True, default=new_reference, editable=False
    )
    # The identifier open data uses (Open311 `service_request_id`, OGC feature id): random and
    # unrelated to `reference`, which is the resident's private receipt and is never published.
    public_id = models.CharField(
        _("public identifier"),
        max_length=12,
        # Null only for the migration that adds it (SpatiaLite cannot rebuild a geometry table);
        # every concern gets one on creation, and a partial unique index keeps them unique.
        null=True,
        default=new_public_id,
        editable=False,
    )
    idempotency_key = models.UUIDField(unique=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)

    # Moderation.
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )  # indexed as the first column of concern_queue
    moderation_reason = models.CharField(_("reason"), max_length=500, blank=True)
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)

    # Post-submit work (thumbnail, notify moderators). Null until done: the sweep retries rows the
    # broker never delivered, and the task claims a row atomically so nothing is done twice.
    processed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Concerns are never referenced from page content; indexing each one would cost a write per
    # submission and a row per concern in Wagtail's reference index.
    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")
        ordering = ["-submitted_at"]
        permissions = [("moderate_concern", _("Can moderate concerns"))]
        indexes = [
            models.Index(
                fields=["consultation_key", "status", "cell_x", "cell_y"],
                name="concern_public_cells",
            ),
            models.Index(fields=["status", "submitted_at"], name="concern_queue"),
            models.Index(fields=["processed_at", "submitted_at"], name="concern_unprocessed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["public_id"],
                condition=models.Q(public_id__isnull=False),
                name="concern_public_id_unique",
            ),
        ]

    def __str__(self):
        return self.reference

    def delete(self, *args, **kwargs):
        """Keep the public map's counts right when a superuser deletes an approved concern
        (moderators never delete: they reject or hide)."""
        from django.db import transaction

        from .services.map_counts import map_counts_adjust

        with transaction.atomic():
            # The stored status, not this object's: it may be older than the last decision.
            status = (
                type(self).objects.select_for_update().filter(pk=self.pk).values_list("status")
            ).first()
            if status == (self.Status.APPROVED,):
                map_counts_adjust(changes=[(self, -1)])
            return super().delete(*args, **kwargs)


class ConcernContact(models.Model):
    """Contact details a reporting app sent with a concern (Open311 `email`, `phone`, names).

    Residents of the site never give any; an Open311 client may, so that the municipality can
    answer. They are kept apart from the concern so that no query for public data can select
    them by accident, are shown only to moderators, and leave with the concern when it is deleted.
    """

    concern = models.OneToOneField(
        Concern, on_delete=models.CASCADE, related_name="contact", verbose_name=_("concern")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # Open311 `device_id` / `account_id`: the client's own identifiers, for its questions to us.
    device_id = models.CharField(_("device"), max_length=100, blank=True)
    account_id = models.CharField(_("account"), max_length=100, blank=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("contact of a concern")
        verbose_name_plural = _("contacts of concerns")

    def __str__(self):
        return " ".join(filter(None, [self.first_name, self.last_name])) or self.email or self.phone


class ConcernCellCount(models.Model):
    """How many approved concerns of one category lie in one base cell of the public grid.

    A summary kept beside `Concern` so the public map counts a few thousand rows instead of up to
    a million concerns on every view (docs/public-map.md). It holds every category, sensitive ones
    included: the rules are applied when reading (`diagnosis.selectors`), so a category flagged
    sensitive later never leaks and the table stays a plain function of the concerns. Concerns
    without a point have no cell and are not here (they count in `ConcernAreaCount`).

    Written only by `diagnosis.services.map_counts` (moderation, in the same transaction as the
    status change, and `map_counts_rebuild` after bulk loads). Rows never hold zero.
    """

    consultation_key = models.UUIDField(editable=False)
    category_key = models.UUIDField(editable=False)
    cell_x = models.IntegerField(editable=False)
    cell_y = models.IntegerField(editable=False)
    count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("map cell count")
        verbose_name_plural = _("map cell counts")
        constraints = [
            # Leading columns serve the map's range scan on a consultation's cells, and make the
            # race-safe upsert of the moderation service possible.
            models.UniqueConstraint(
                fields=["consultation_key", "cell_x", "cell_y", "category_key"],
                name="concern_cell_count_unique",
            ),
        ]

    def __str__(self):
        return f"{self.cell_x},{self.cell_y}: {self.count}"


class ConcernAreaCount(models.Model):
    """How many approved concerns of one category lie in one area, with or without a point.

    The per-area totals of the public map and the consultation page's table (including concerns
    placed by area only, which have no cell). Kept like `ConcernCellCount`; when an area is deleted
    its concerns lose their area (SET_NULL), so its rows go with it.
    """

    consultation_key = models.UUIDField(editable=False)
    category_key = models.UUIDField(editable=False)
    area = models.ForeignKey(
        "maps.Area", on_delete=models.CASCADE, related_name="+", editable=False
    )
    count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("map area count")
        verbose_name_plural = _("map area counts")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation_key", "area", "category_key"],
                name="concern_area_count_unique",
            ),
        ]

    def __str__(self):
        return f"{self.area_id}: {self.count}"


# Wagtail page types live in pages.py; Django discovers models through this module.
from .pages import ConsultationPage  # noqa: E402

__all__ = [
    "Concern",
    "ConcernAreaCount",
    "ConcernCategory",
    "ConcernCellCount",
    "ConsultationPage",
    "PreventionType",
]


# --- Questionnaires ---------------------------------------------------------------------------


class QuestionnaireVersion(models.Model):
    """One structure of a consultation's questionnaire, as residents answered it.

    The questionnaire is edited in the page (a StreamField) and may change while residents answer.
    Each distinct structure — block ids, codes, types, choice values, limits, required flags and
    conditions, but not the wording — gets its own row the first time someone answers it, with the
    whole definition (texts and choice labels in every language that had the same structure then)
    frozen in `definition`. Answers point here, so an edit never changes what an earlier answer
    meant, and exports can list each version's questions in each language. Shared by every
    translation of the consultation (`consultation_key`): translations keep the block ids.
    Written only by `diagnosis.services.questionnaires`.
    """

    consultation_key = models.UUIDField(editable=False)
    structure_hash = models.CharField(_("structure hash"), max_length=64, editable=False)
    definition = models.JSONField(_("definition"), editable=False)
    created_at = models.DateTimeField(_("first answered"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        ordering = ["consultation_key", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation_key", "structure_hash"],
                name="questionnaire_version_unique",
            )
        ]

    def __str__(self):
        return f"{self.consultation_key} · {self.structure_hash[:8]}"

    @property
    def questions(self) -> list[dict]:
        return self.definition.get("questions", [])


class QuestionnaireResponse(models.Model):
    """One resident's answers to a consultation's questionnaire, in the language they used.

    Anonymous like concerns: no IP address or user agent; gender and age band are optional and
    self-described, with the same choices as concerns so the two can be disaggregated together.
    """

    consultation = models.ForeignKey(
        "diagnosis.ConsultationPage",
        verbose_name=_("consultation"),
        on_delete=models.PROTECT,
        related_name="questionnaire_responses",
    )
    consultation_key = models.UUIDField(editable=False)
    version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name=_("questionnaire version"),
        on_delete=models.PROTECT,
        related_name="responses",
    )
    language = models.CharField(_("language"), max_length=10)
    submitted_at = models.DateTimeField(_("submitted"))
    idempotency_key = models.UUIDField(unique=True, editable=False)
    source = models.CharField(
        _("source"),
        max_length=12,
        # Questionnaires are answered on the site or entered from paper, never sent by other apps.
        choices=Concern.Source.choices[:3],
        default=Concern.Source.ONLINE,
    )
    # The day written on a paper form or interview sheet, when a facilitator typed it in later;
    # `submitted_at` stays the moment it was stored. Analyses by date use
    # `Coalesce(filled_on, TruncDate(submitted_at))`.
    filled_on = models.DateField(_("date on the form"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    gender = models.CharField(
        _("gender"), max_length=12, choices=Concern.Gender.choices, blank=True
    )
    gender_description = models.CharField(_("gender, in your words"), max_length=60, blank=True)
    age_band = models.CharField(
        _("age"),
        max_length=10,
        choices=[*AgeBand.choices, ("unsaid", _("Prefer not to say"))],
        blank=True,
    )

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("questionnaire response")
        verbose_name_plural = _("questionnaire responses")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(
                fields=["consultation_key", "submitted_at"], name="questionnaire_resp_key"
            ),
        ]

    def __str__(self):
        return f"{self.consultation_key} · {self.submitted_at:%Y-%m-%d %H:%M}"


class Answer(models.Model):
    """One answer: a question (by StreamField block id and code) and its value.

    `block_id` is the id of the question's block in the default-language page, the same in every
    translation; `question_code` repeats the code the version gave it, for readable exports. The
    value is a JSON string, list of strings (multiple choice) or number.
    """

    response = models.ForeignKey(
        QuestionnaireResponse,
        verbose_name=_("response"),
        on_delete=models.CASCADE,
        related_name="answers",
    )
    block_id = models.CharField(_("question block id"), max_length=64, editable=False)
    question_code = models.SlugField(_("question code"), max_length=40, editable=False)
    value = models.JSONField(_("value"), editable=False)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "block_id"], name="answer_unique_question")
        ]
        indexes = [models.Index(fields=["block_id"], name="answer_block")]

    def __str__(self):
        return f"{self.question_code}: {self.value}"


__all__ += ["Answer", "QuestionnaireResponse", "QuestionnaireVersion"]


# --- Questionnaire response exports -------------------------------------------------------------


def response_export_storage():
    """Where export files live: a folder *outside* MEDIA_ROOT, so no URL ever serves them.

    Exports hold every answer of a consultation (personal data). MEDIA_ROOT is served at /media/
    (by Django with DEBUG, by the reverse proxy in production), so the files go to
    `CONVIVE_PRIVATE_MEDIA_ROOT` when set, else to a sibling folder `<MEDIA_ROOT>-private`, and
    are read only by the admin download view, which checks permission. A callable, so migrations
    do not record a machine's path.
    """
    from pathlib import Path

    from django.core.files.storage import FileSystemStorage

    media = Path(settings.MEDIA_ROOT)
    root = getattr(settings, "CONVIVE_PRIVATE_MEDIA_ROOT", None) or media.with_name(
        f"{media.name}-private"
    )
    return FileSystemStorage(location=Path(root) / "exports")


# --- Background jobs about a consultation --------------------------------------------------------


class ConsultationJob(models.Model):
    """What a background job about one consultation keeps, whatever it computes.

    Response exports and diagnosis runs are both asked for in the admin and run by a Celery task
    that records its progress on the row. The consultation is kept by translation key (answers and
    concerns of every language count together) and the page for display. A failure keeps an error
    code (each job's own `Error` choices, translated when shown) and a short technical detail; the
    heartbeat, written with every chunk or step, tells a job that lost its worker.
    """

    consultation_key = models.UUIDField(editable=False)
    consultation = models.ForeignKey(
        "diagnosis.ConsultationPage",
        verbose_name=_("consultation"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error_detail = models.CharField(_("technical detail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    wagtail_reference_index_ignore = True

    class Meta:
        abstract = True


class ResponseExport(ConsultationJob):
    """A facilitator's request for a consultation's questionnaire responses as CSV or XLSX.

    Made by a background job (`diagnosis.tasks.response_export`) that writes `rows_done` as it
    goes, so the admin can show progress; the file is downloadable only through the admin by the
    person who asked for it. The consultation is its translation key (answers in every language
    count together); the page is kept for display. A failure keeps a code, translated when shown,
    and a short technical detail; the traceback goes to the log. Exports expire (see
    `diagnosis.services.response_exports`).
    """

    class Format(models.TextChoices):
        CSV = "csv", _("CSV (UTF-8)")
        XLSX = "xlsx", _("Excel workbook (XLSX)")

    class Cells(models.TextChoices):
        LABELS = "labels", _("Answer labels, in the chosen language")
        CODES = "codes", _("Codes (question codes and choice values)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to start")
        RUNNING = "running", _("In progress")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Error(models.TextChoices):
        FAILED = "failed", _("The export failed. The details are in the server log.")
        NOT_QUEUED = (
            "not-queued",
            _(
                "The export could not be started because the task queue did not answer. "
                "Try again in a few minutes."
            ),
        )
        INTERRUPTED = (
            "interrupted",
            _("The export stopped before it finished (its worker was stopped). Ask for it again."),
        )

    language = models.CharField(_("language of the labels"), max_length=10)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    cells = models.CharField(
        _("answers as"), max_length=6, choices=Cells.choices, default=Cells.LABELS
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    rows_done = models.PositiveIntegerField(_("responses written"), default=0)
    rows_total = models.PositiveIntegerField(_("responses to write"), null=True, blank=True)
    file = models.FileField(
        pgettext_lazy("export", "file"),
        upload_to="responses/%Y/%m/",
        storage=response_export_storage,
        blank=True,
    )
    error = models.CharField(_("error"), max_length=12, choices=Error.choices, blank=True)

    class Meta:
        verbose_name = _("response export")
        verbose_name_plural = _("response exports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["consultation_key", "created_at"], name="response_export_key"),
        ]

    def __str__(self):
        return f"{self.consultation_key} · {self.format} · {self.created_at:%Y-%m-%d %H:%M}"


__all__ += ["ResponseExport"]


# --- Diagnosis runs and snapshots ---------------------------------------------------------------


class DiagnosisRun(ConsultationJob):
    """One computation of a consultation's diagnosis, started by a facilitator in the admin.

    Run as a background job (`diagnosis.tasks.diagnosis_run`) that records its progress and a log
    here after every step, so the admin's progress page works with real workers and in-process
    alike. A run can be cancelled (`cancel_requested`, honoured between steps) and two runs of one
    consultation never overlap: the partial unique constraint below lets the database refuse a
    second queued or running run, even when two requests race. A successful run leaves exactly
    one `DiagnosisSnapshot`; a cancelled or failed one leaves none.

    The log is a list of `{"at": ISO time, "code": message code, "args": {...}}`, translated when
    shown (`diagnosis.services.diagnosis_runs.log_lines`), so each facilitator reads it in their
    language. A failure keeps an error code, translated when shown, and a short technical detail.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("In progress")
        DONE = "done", pgettext_lazy("diagnosis run", "Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Error(models.TextChoices):
        FAILED = "failed", _("The diagnosis failed. The details are in the server log.")
        NOT_QUEUED = (
            "not-queued",
            _(
                "The diagnosis could not be started because the task queue did not answer. "
                "Try again in a few minutes."
            ),
        )
        INTERRUPTED = (
            "interrupted",
            _("The diagnosis stopped before it finished (its worker was stopped). Start it again."),
        )

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    steps_done = models.PositiveSmallIntegerField(_("steps done"), default=0)
    steps_total = models.PositiveSmallIntegerField(_("steps"), default=0)
    log = models.JSONField(_("log"), default=list, blank=True, editable=False)
    cancel_requested = models.BooleanField(_("cancellation requested"), default=False)
    # {"k": 5, "window_from": "2026-03-01" | None, "window_to": … | None, "method_version": "1"}
    parameters = models.JSONField(_("parameters"), default=dict)
    error = models.CharField(_("error"), max_length=12, choices=Error.choices, blank=True)

    class Meta:
        verbose_name = _("diagnosis run")
        verbose_name_plural = _("diagnosis runs")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["consultation_key", "created_at"], name="diagnosis_run_key"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation_key"],
                condition=models.Q(status__in=["queued", "running"]),
                name="diagnosis_run_one_active",
                violation_error_message=_(
                    "A diagnosis of this consultation is already waiting or in progress."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.consultation_key} · {self.created_at:%Y-%m-%d %H:%M} · {self.status}"


class SnapshotImmutable(Exception):
    """Raised on any attempt to change or delete a stored diagnosis snapshot or its results."""


class ImmutableQuerySet(models.QuerySet):
    """Refuses `update()` and `delete()`: snapshots and their results never change.

    Deleting the `DiagnosisRun` that made a snapshot removes it and its results through the
    database cascade (Django's collector deletes by primary key without this queryset), which is
    the one way they go.
    """

    def update(self, **kwargs):
        raise SnapshotImmutable("Diagnosis snapshots and their results cannot be changed.")

    def delete(self):
        raise SnapshotImmutable("Diagnosis snapshots are deleted only with the run that made them.")


class DiagnosisSnapshot(models.Model):
    """The immutable result of one successful diagnosis run: what pages, downloads and APIs read.

    It records how it was made (method version, parameters, the time window) and from what (input
    counts), and holds its numbers as structured rows (`DiagnosisResult`) with a SHA-256 of them
    (`content_hash`): re-running on the same inputs gives the same rows and the same hash. Raw
    counts only: small-number suppression (k in `parameters`) is applied when publishing.

    Immutable: `save()` refuses once the row exists, and `delete()` (on the object or a queryset)
    always refuses. A snapshot goes only with its run (`DiagnosisRun` deleted → snapshot and
    results deleted by cascade), so nothing can change numbers that may have been published.
    """

    consultation_key = models.UUIDField(editable=False)
    run = models.OneToOneField(
        DiagnosisRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="snapshot",
        editable=False,
    )
    method_version = models.CharField(_("method version"), max_length=20, editable=False)
    parameters = models.JSONField(_("parameters"), editable=False)
    input_counts = models.JSONField(_("input counts"), editable=False)
    window_from = models.DateField(_("from"), null=True, blank=True, editable=False)
    window_to = models.DateField(_("to"), null=True, blank=True, editable=False)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ImmutableQuerySet.as_manager()

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("diagnosis snapshot")
        verbose_name_plural = _("diagnosis snapshots")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["consultation_key", "created_at"], name="diagnosis_snapshot_key"),
        ]

    def __str__(self):
        return f"{self.consultation_key} · {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise SnapshotImmutable("A diagnosis snapshot cannot be changed once stored.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SnapshotImmutable("Diagnosis snapshots are deleted only with the run that made them.")


class DiagnosisResult(models.Model):
    """One number of a snapshot: a count and its denominator in one table, keyed by area,
    category and group.

    `table` names what was counted and how it is broken down (see `diagnosis.engine.TABLES`);
    `group` and `subgroup` hold the breakdown's codes (a gender, an age band, a prevention type, a
    time band, …; blank when the table has none); `value` is `count / total`. Rows are written
    only by the engine, together with their snapshot (bulk insert in one transaction), and never
    change: `save()`, `update()` and `delete()` refuse.
    """

    snapshot = models.ForeignKey(
        DiagnosisSnapshot,
        on_delete=models.CASCADE,
        related_name="results",
        editable=False,
    )
    position = models.PositiveIntegerField(editable=False)
    table = models.CharField(_("table"), max_length=40, editable=False)
    # PROTECT: an area that a snapshot counts in cannot be deleted from under it.
    area = models.ForeignKey(
        "maps.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    category_key = models.UUIDField(null=True, blank=True, editable=False)
    group = models.CharField(_("group"), max_length=64, blank=True, editable=False)
    subgroup = models.CharField(_("subgroup"), max_length=64, blank=True, editable=False)
    # A cell of the public grid (hotspot tables), in the same units as `Concern.cell_x/cell_y`.
    cell_x = models.IntegerField(null=True, blank=True, editable=False)
    cell_y = models.IntegerField(null=True, blank=True, editable=False)
    count = models.PositiveIntegerField(_("count"), editable=False)
    total = models.PositiveIntegerField(_("total"), editable=False)
    value = models.FloatField(_("share"), null=True, blank=True, editable=False)
    # A 95 % interval around `value` when the table has one (Wilson, or on the effective n).
    low = models.FloatField(_("lower bound"), null=True, blank=True, editable=False)
    high = models.FloatField(_("upper bound"), null=True, blank=True, editable=False)
    # Numbers a table needs beyond count/total/value (expected count, p-values, effective n, the
    # previous round's value…): plain JSON, named per table in `diagnosis.engine.TABLES`.
    detail = models.JSONField(_("detail"), default=dict, blank=True, editable=False)

    objects = ImmutableQuerySet.as_manager()

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("diagnosis result")
        verbose_name_plural = _("diagnosis results")
        ordering = ["snapshot", "position"]
        indexes = [models.Index(fields=["snapshot", "table"], name="diagnosis_result_table")]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "position"], name="diagnosis_result_position"
            )
        ]

    def __str__(self):
        return f"{self.table}: {self.count}/{self.total}"

    def save(self, *args, **kwargs):
        raise SnapshotImmutable("Diagnosis results are written only with their snapshot.")

    def delete(self, *args, **kwargs):
        raise SnapshotImmutable("Diagnosis results are deleted only with their snapshot's run.")


class SnapshotPublication(models.Model):
    """A snapshot went public on a results page (written by `cms` when the page is published).

    Kept here, not on the page, so the diagnosis can find what a consultation last published (the
    previous round a new run compares against) without knowing about pages. One row per publish;
    the latest one of a consultation is what it currently shows.
    """

    snapshot = models.ForeignKey(
        DiagnosisSnapshot,
        verbose_name=_("snapshot"),
        on_delete=models.PROTECT,
        related_name="publications",
    )
    consultation_key = models.UUIDField(editable=False)
    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="+", editable=False
    )
    published_at = models.DateTimeField(_("published"), default=timezone.now)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("snapshot publication")
        verbose_name_plural = _("snapshot publications")
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(
                fields=["consultation_key", "published_at"], name="snapshot_publication_key"
            )
        ]

    def __str__(self):
        return f"{self.snapshot_id} · {self.published_at:%Y-%m-%d %H:%M}"


class PrioritisationBallot(models.Model):
    """One device's points among a consultation's problems (the prioritisation phase).

    No account: the device is a random id kept in a cookie, stored only as a keyed hash, and the
    database allows one ballot per device and consultation (a second submission replaces the
    first while voting is open). `points` maps a problem's translation key to the points given,
    so ballots cast in any language count together.
    """

    consultation_key = models.UUIDField(editable=False)
    device = models.CharField(max_length=64, editable=False)
    points = models.JSONField(_("points"), default=dict)
    language = models.CharField(_("language"), max_length=10)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("prioritisation ballot")
        verbose_name_plural = _("prioritisation ballots")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation_key", "device"], name="one_ballot_per_device"
            )
        ]

    def __str__(self):
        return f"{self.consultation_key} · {self.submitted_at:%Y-%m-%d %H:%M}"


__all__ += [
    "DiagnosisResult",
    "DiagnosisRun",
    "DiagnosisSnapshot",
    "PrioritisationBallot",
    "SnapshotImmutable",
    "SnapshotPublication",
]


# --- Open-data exports --------------------------------------------------------------------------


def new_open_data_export_id() -> str:
    """A random, URL-safe identifier (128 bits): export ids are public and must not be guessable."""
    import secrets

    return secrets.token_urlsafe(16)


class OpenDataExport(models.Model):
    """One bulk open-data file (public concerns, area totals or walk stops as CSV, GeoJSON or
    XLSX), asked for by anyone on the open-data page or through `/api/exports/`.

    Made by a background job (`diagnosis.tasks.open_data_export`) that records progress here.
    The same request (dataset, format, consultation, language) while the data has not changed
    (`data_version`) reuses a finished file, so a crowd asking for one file costs one export.
    Files hold only public data (through `diagnosis.public_data`) and live in default storage;
    they are served by a download view and deleted when they expire
    (`diagnosis.services.open_data_exports`). No one's identity or address is recorded.
    """

    class Dataset(models.TextChoices):
        CONCERNS = "concerns", _("Public concerns")
        AREA_TOTALS = "area-totals", _("Concern totals per area and category")
        WALK_STOPS = "walk-stops", _("Safety walk stops")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV (UTF-8)")
        GEOJSON = "geojson", _("GeoJSON")
        XLSX = "xlsx", _("Excel workbook (XLSX)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("In progress")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Error(models.TextChoices):
        FAILED = "failed", _("The export failed. Please try again later.")
        NOT_QUEUED = (
            "not-queued",
            _("The export could not be started. Try again in a few minutes."),
        )
        INTERRUPTED = (
            "interrupted",
            _("The export stopped before it finished. Ask for it again."),
        )

    id = models.CharField(
        primary_key=True, max_length=32, default=new_open_data_export_id, editable=False
    )
    dataset = models.CharField(_("dataset"), max_length=16, choices=Dataset.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    consultation_key = models.UUIDField(null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=10)
    data_version = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows to write"), null=True, blank=True)
    file = models.FileField(pgettext_lazy("export", "file"), upload_to="open-data/", blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=12, choices=Error.choices, blank=True)
    error_detail = models.CharField(_("technical detail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("open-data export")
        verbose_name_plural = _("open-data exports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["dataset", "format", "consultation_key", "language", "data_version"],
                name="open_data_export_match",
            ),
            models.Index(fields=["status", "finished_at"], name="open_data_export_status"),
        ]

    def __str__(self):
        return f"{self.dataset} · {self.format} · {self.created_at:%Y-%m-%d %H:%M}"


__all__ += ["OpenDataExport"]
