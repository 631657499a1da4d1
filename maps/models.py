"""Territory: the areas a consultation covers, their boundaries and who lives there."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.search import index

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
