"""Territory: the areas a consultation covers, their boundaries and who lives there; and the
safety walks residents make through them."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable
from wagtail.search import index

from .codes import new_access_code, new_reference
from .demography import AgeBand, Sex
from .widgets import AreaMapWidget


class Area(index.Indexed, ClusterableModel):
    """A city, district or neighbourhood with its boundary.

    The name is a proper noun and is kept exactly as the publisher wrote it (one row, not one per
    language); only level names and other labels are translated. Population by sex and age band
    (AreaPopulation) is what the diagnosis weights answers against.
    """

    class Level(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")

    name = models.CharField(_("name"), max_length=255)
    code = models.CharField(
        _("code"),
        max_length=64,
        unique=True,
        help_text=_("The publisher's identifier, e.g. the cadastral sector code."),
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    geometry = models.MultiPolygonField(_("boundary"), srid=4326, spatial_index=True)
    population_total = models.PositiveIntegerField(_("total population"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(_("population year"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=500, blank=True, help_text=_("Who published the boundary.")
    )
    licence = models.CharField(_("licence"), max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    panels = [
        MultiFieldPanel(
            [FieldPanel("name"), FieldPanel("code"), FieldPanel("level"), FieldPanel("parent")],
            heading=_("Area"),
        ),
        FieldPanel("geometry", widget=AreaMapWidget),
        MultiFieldPanel(
            [
                FieldPanel("population_total"),
                FieldPanel("population_year"),
                InlinePanel("population", label=_("Population by sex and age band")),
            ],
            heading=_("Population"),
        ),
        MultiFieldPanel([FieldPanel("source"), FieldPanel("licence")], heading=_("Attribution")),
    ]

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("level"),
    ]

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self):
        return f"{self.name} ({self.get_level_display()})"


class AreaPopulation(models.Model):
    """Residents of an area in one sex × age band cell, from the census or a projection."""

    area = ParentalKey(Area, on_delete=models.CASCADE, related_name="population")
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    age_band = models.CharField(_("age band"), max_length=10, choices=AgeBand.choices)
    count = models.PositiveIntegerField(_("residents"))

    panels = [FieldPanel("sex"), FieldPanel("age_band"), FieldPanel("count")]

    class Meta:
        verbose_name = _("population figure")
        verbose_name_plural = _("population figures")
        constraints = [
            models.UniqueConstraint(fields=["area", "sex", "age_band"], name="unique_area_cell")
        ]

    def __str__(self):
        return f"{self.area.name}: {self.sex} {self.age_band} = {self.count}"


# --- Safety walks ---------------------------------------------------------------------------
# A group of residents walks a route they use with a facilitator and records, at each stop, the
# audit parameters (scored 0–3 or not observed), how safe they felt, and the hazards they saw.
# Walks belong to `maps` (they are about places); consultations link to them from `diagnosis`.


class ModerationStatus(models.TextChoices):
    """The moderation states shared by everything residents contribute (concerns, walk stops)."""

    PENDING = "pending", _("Awaiting moderation")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    HIDDEN = "hidden", _("Hidden")


class SafetyWalk(index.Indexed, ClusterableModel):
    """A planned or recorded safety walk ("marcha exploratoria", women's safety audit)."""

    class TimeBand(models.TextChoices):
        DAY = "day", _("Day")
        DUSK = "dusk", _("Dusk")
        NIGHT = "night", _("Night")

    class TargetGroup(models.TextChoices):
        WOMEN = "women", _("Women and girls")
        YOUTH = "youth", _("Young people")
        OLDER = "older", _("Older people")
        DISABILITIES = "disabilities", _("People with disabilities")
        CHILDREN = "children", _("Children with their carers")
        MIXED = "mixed", _("Mixed group")

    class Light(models.TextChoices):
        DAYLIGHT = "daylight", _("Daylight")
        TWILIGHT = "twilight", _("Twilight")
        DARK_LIT = "dark_lit", _("Dark, street lights on")
        DARK_UNLIT = "dark_unlit", _("Dark, street lights off or missing")

    class Weather(models.TextChoices):
        CLEAR = "clear", pgettext_lazy("weather", "Clear")
        CLOUDY = "cloudy", _("Cloudy")
        RAIN = "rain", _("Rain")
        FOG = "fog", _("Fog or mist")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    class RepeatKind(models.TextChoices):
        OTHER_TIME = "other_time", _("The same route at another time of day")
        FOLLOW_UP = "follow_up", _("A follow-up after works or changes")

    # The public identifier in URLs: ids are guessable, and a walk is not public until published.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(pgettext_lazy("walk", "title"), max_length=255)
    areas = ParentalManyToManyField(Area, verbose_name=_("areas"), related_name="walks")
    route = models.LineStringField(
        _("route"),
        srid=4326,
        null=True,
        blank=True,
        help_text=_("Draw the route the group will walk, from the meeting point."),
    )
    meeting_point = models.PointField(_("meeting point"), srid=4326, null=True, blank=True)
    meeting_place = models.CharField(
        _("meeting place"),
        max_length=255,
        blank=True,
        help_text=_("In words, e.g. the entrance of the community centre on 60th Street."),
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("start time"), null=True, blank=True)
    time_band = models.CharField(_("time of day"), max_length=10, choices=TimeBand.choices)
    target_group = models.CharField(_("who walks"), max_length=20, choices=TargetGroup.choices)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("facilitator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    light = models.CharField(_("light"), max_length=12, choices=Light.choices, blank=True)
    weather = models.CharField(_("weather"), max_length=10, choices=Weather.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    repeats = models.ForeignKey(
        "self",
        verbose_name=_("repeats the walk"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repetitions",
        help_text=_("The earlier walk on the same route this one is compared with."),
    )
    repeat_kind = models.CharField(
        _("kind of repetition"), max_length=12, choices=RepeatKind.choices, blank=True
    )
    access_code = models.CharField(
        _("participants' access code"),
        max_length=12,
        unique=True,
        default=new_access_code,
        help_text=_(
            "Participants type this code on their phones to add stops to this walk, and only to "
            "this one. Make a new one to shut out anyone who has the old one."
        ),
    )
    notes = models.TextField(
        _("facilitator's notes"), blank=True, help_text=_("Internal; never published.")
    )
    report_published_at = models.DateTimeField(_("report published"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    search_fields = [
        index.SearchField("title"),
        index.AutocompleteField("title"),
        index.FilterField("status"),
    ]

    class Meta:
        verbose_name = _("safety walk")
        verbose_name_plural = _("safety walks")
        ordering = ["-date", "title"]
        permissions = [("publish_walk_report", _("Can publish safety walk reports"))]

    def __str__(self):
        return self.title

    @property
    def report_is_public(self) -> bool:
        return self.report_published_at is not None


class WalkParticipants(Orderable):
    """How many walked, by gender and age band: counts only, never names."""

    class Gender(models.TextChoices):
        WOMEN = "women", _("Women")
        MEN = "men", _("Men")
        OTHER = "other", _("Another gender")
        UNSTATED = "unstated", _("Not stated")

    walk = ParentalKey(SafetyWalk, on_delete=models.CASCADE, related_name="participants")
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    age_band = models.CharField(_("age band"), max_length=10, choices=AgeBand.choices)
    count = models.PositiveSmallIntegerField(_("people"))

    panels = [FieldPanel("gender"), FieldPanel("age_band"), FieldPanel("count")]

    class Meta(Orderable.Meta):
        verbose_name = _("participants")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["walk", "gender", "age_band"], name="unique_walk_participants_cell"
            )
        ]

    def __str__(self):
        return f"{self.gender} {self.age_band}: {self.count}"


# The audit parameters, in the order of the field form and the report: field name, label, and
# what is judged (DOMAIN.md). Each is scored 0 (poor) to 3 (good), NULL meaning "not observed".
WALK_PARAMETERS = [
    ("lighting", _("Lighting"), _("Can you see a face 25 m away? Are paths and entrances lit?")),
    (
        "openness",
        _("Openness"),
        _("Can you see ahead and around? No blind corners or walls that hide people."),
    ),
    (
        "visibility",
        _("Visibility"),
        _("Eyes on the street: windows, shops or vendors overlooking the place."),
    ),
    ("people", _("People around"), _("How many people are around.")),
    ("security", _("Security presence"), _("Visible police, guards or community watch.")),
    ("walk_path", _("Walk path"), _("A continuous, even, unobstructed footpath.")),
    ("transport", _("Public transport"), _("A stop or station within reach.")),
    (
        "gender_diversity",
        _("Gender diversity"),
        _("Women and girls are present and using the space."),
    ),
]
WALK_PARAMETER_FIELDS = [name for name, _label, _help in WALK_PARAMETERS]


class WalkScore(models.IntegerChoices):
    POOR = 0, _("0 – poor")
    WEAK = 1, _("1 – weak")
    FAIR = 2, _("2 – fair")
    GOOD = 3, _("3 – good")


def walk_photo_path(instance, filename):
    # No participant data in the name: a random UUID in a month folder.
    return f"walks/{instance.received_at or timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


def _score_field(label):
    return models.PositiveSmallIntegerField(label, choices=WalkScore.choices, null=True, blank=True)


class WalkStop(models.Model):
    """One stop of a safety walk: where, the audit scores, how it felt, hazards, notes, a photo.

    The exact point is kept for analysis; the public sees `public_point`, the fuzzed location moved
    onto the route (the route itself is public), and only once the stop is approved.
    """

    class Feeling(models.TextChoices):
        COMFORTABLE = "comfortable", _("Comfortable")
        UNCOMFORTABLE = "uncomfortable", _("Uncomfortable")
        FRIGHTENING = "frightening", _("Frightening")

    class Hazard(models.TextChoices):
        ENTRAPMENT = (
            "entrapment",
            _("Entrapment spot (somewhere a person could be trapped or hidden)"),
        )
        NO_ESCAPE = "no_escape", _("No escape route")
        SIGNAGE = "signage", _("Poor signage or orientation")
        MAINTENANCE = "maintenance", _("Poor maintenance (rubbish, broken lights, graffiti)")
        ISOLATED = "isolated", _("Isolated land use (empty lots, closed facades)")
        NO_TOILET = "no_toilet", _("No public toilet")
        NO_HELP = "no_help", _("No help nearby")

    class Located(models.TextChoices):
        GPS = "gps", _("Phone location (GPS)")
        ROUTE = "route", _("Tapped on the route")
        MAP = "map", _("Tapped on the map")

    class Source(models.TextChoices):
        FACILITATOR = "facilitator", _("Facilitator")
        PARTICIPANT = "participant", _("Participant with the access code")

    walk = models.ForeignKey(SafetyWalk, on_delete=models.CASCADE, related_name="stops")
    reference = models.CharField(
        _("reference code"), max_length=9, unique=True, default=new_reference, editable=False
    )
    idempotency_key = models.UUIDField(unique=True, editable=False)

    point = models.PointField(_("exact point"), srid=4326)
    located_by = models.CharField(_("located by"), max_length=10, choices=Located.choices)
    accuracy_m = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    public_point = models.PointField(srid=4326, null=True, blank=True, spatial_index=False)

    lighting = _score_field(_("lighting"))
    openness = _score_field(_("openness"))
    visibility = _score_field(_("visibility"))
    people = _score_field(_("people around"))
    security = _score_field(_("security presence"))
    walk_path = _score_field(_("walk path"))
    transport = _score_field(_("public transport"))
    gender_diversity = _score_field(_("gender diversity"))
    feeling = models.CharField(_("feeling of safety"), max_length=14, choices=Feeling.choices)
    hazards = models.JSONField(_("hazards"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    photo = models.ImageField(_("photo"), upload_to=walk_photo_path, blank=True)

    recorded_at = models.DateTimeField(
        _("recorded"), help_text=_("When the stop was recorded on the phone.")
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    source = models.CharField(_("recorded by"), max_length=12, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("facilitator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=10)

    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ModerationStatus.choices,
        default=ModerationStatus.PENDING,
    )
    moderation_reason = models.CharField(_("reason"), max_length=500, blank=True)
    moderated_at = models.DateTimeField(_("moderated"), null=True, blank=True)

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("walk stop")
        verbose_name_plural = _("walk stops")
        ordering = ["walk", "recorded_at"]
        permissions = [("moderate_walkstop", _("Can moderate walk stops"))]
        indexes = [
            models.Index(fields=["walk", "status", "recorded_at"], name="walkstop_walk_status"),
            models.Index(fields=["status", "received_at"], name="walkstop_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(feeling__in=["comfortable", "uncomfortable", "frightening"]),
                name="walkstop_feeling_known",
            ),
        ]

    def __str__(self):
        return self.reference

    def scores(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in WALK_PARAMETER_FIELDS}
