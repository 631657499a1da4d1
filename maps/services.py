"""Writes over territory: importing area boundaries from GeoJSON.

Boundaries come from whoever publishes them (a cadastre, a statistics office, an open-data portal),
and real files are untidy: self-intersecting rings, Polygon and MultiPolygon mixed, 3D coordinates,
a projected CRS, names double-encoded by some earlier tool. `area_import` takes the features of one
file, repairs what can be repaired, reports what cannot, and writes the rest — keyed by the
publisher's code, so importing the same file again updates areas instead of duplicating them.
"""

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.gis.gdal import GDALException, SpatialReference
from django.contrib.gis.geos import (
    GEOSException,
    GEOSGeometry,
    MultiPolygon,
    Polygon,
    WKBWriter,
)
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Area
from .selectors import area_parent_find

logger = logging.getLogger("convive.maps")

WGS84 = 4326
# Longer than this and the Area columns would refuse the value; better to say so per feature.
NAME_MAX_LENGTH = Area._meta.get_field("name").max_length
CODE_MAX_LENGTH = Area._meta.get_field("code").max_length


class AreaImportError(ValueError):
    """The file as a whole cannot be imported (not GeoJSON, unknown CRS, missing parent)."""


@dataclass(frozen=True)
class FeatureNote:
    """Something an operator should know about one feature of the file."""

    index: int  # 1-based position in the file, as a person counts
    code: str | None
    message: str

    def __str__(self) -> str:
        if self.code:
            return _("Feature %(index)s (code %(code)s): %(message)s") % {
                "index": self.index,
                "code": self.code,
                "message": self.message,
            }
        return _("Feature %(index)s: %(message)s") % {"index": self.index, "message": self.message}


@dataclass
class ImportReport:
    """What an import did: counts per outcome, features skipped, and repairs made on the way."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[FeatureNote] = field(default_factory=list)
    warnings: list[FeatureNote] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


# --- Reading a GeoJSON document -----------------------------------------------------------------

CRS84_NAMES = {"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "crs84", "ogc:crs84"}
EPSG_PATTERN = re.compile(r"^(?:urn:ogc:def:crs:)?epsg:(?:[\d.]*:)?(\d+)$")


def geojson_features_read(*, document: Any) -> tuple[list[dict], int]:
    """The features of a parsed GeoJSON document and the SRID its coordinates are in.

    Accepts a FeatureCollection, a single Feature or a bare geometry. GeoJSON (RFC 7946) is always
    WGS 84 lon/lat, but files exported from desktop GIS often carry the older `crs` member naming a
    projected system (Bogotá's MAGNA-SIRGAS, EPSG:3116, is common); we honour it and reproject.
    """
    if not isinstance(document, Mapping) or "type" not in document:
        raise AreaImportError(_("The file is not GeoJSON: it has no top-level “type”."))
    kind = document["type"]
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise AreaImportError(_("The FeatureCollection has no list of “features”."))
    elif kind == "Feature":
        features = [document]
    elif kind in {"Polygon", "MultiPolygon", "GeometryCollection"}:
        features = [{"type": "Feature", "properties": {}, "geometry": document}]
    else:
        raise AreaImportError(
            _("The file is not a GeoJSON FeatureCollection (its type is “%(type)s”).")
            % {"type": kind}
        )
    return features, geojson_crs_srid(crs=document.get("crs"))


def geojson_crs_srid(*, crs: Any) -> int:
    """The EPSG code named by a GeoJSON `crs` member; no member (or CRS84) means WGS 84."""
    if not crs:
        return WGS84
    if not isinstance(crs, Mapping):
        raise AreaImportError(_("The file's “crs” member is not an object."))
    properties = crs.get("properties") or {}
    if crs.get("type") == "EPSG" and "code" in properties:
        name = f"EPSG:{properties['code']}"
    else:
        name = str(properties.get("name", "")).strip()
    lowered = name.lower()
    if lowered in CRS84_NAMES:
        return WGS84
    match = EPSG_PATTERN.match(lowered)
    if match:
        srid = int(match.group(1))
        try:
            SpatialReference(srid)
        except (GDALException, ValueError) as exc:
            raise AreaImportError(
                _("The file's coordinate system %(crs)s is not known to GDAL.") % {"crs": name}
            ) from exc
        return srid
    raise AreaImportError(
        _("The file's coordinate system “%(crs)s” is not supported; use an EPSG code or CRS84.")
        % {"crs": name or crs}
    )


# --- Repairs --------------------------------------------------------------------------------------


def _legacy_bytes(text: str) -> bytes | None:
    """The bytes a Windows-1252 (or Latin-1) decoder would have turned into `text`, if any."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            # cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; Latin-1 maps them to C1.
            if ord(char) < 256:
                out.append(ord(char))
            else:
                return None
    return bytes(out)


def name_repair(value: str) -> str:
    """Undo UTF-8 text that was decoded as Windows-1252/Latin-1 ("NARIÃ‘O" → "NARIÑO").

    Only when the round trip is strict UTF-8 *and* leaves fewer non-ASCII characters: real
    accented names ("Coyoacán", "Peñalolén") are not valid UTF-8 once encoded to one byte per
    character, so they come back unchanged. Applied until stable, for text encoded twice over.
    """
    for _attempt in range(3):
        raw = _legacy_bytes(value)
        if raw is None:
            return value
        try:
            fixed = raw.decode("utf-8")
        except UnicodeDecodeError:
            return value
        if fixed == value or _non_ascii(fixed) >= _non_ascii(value):
            return value
        value = fixed
    return value


def _non_ascii(text: str) -> int:
    return sum(1 for char in text if ord(char) > 127)


def _flat_2d(geometry: GEOSGeometry) -> GEOSGeometry:
    writer = WKBWriter()
    writer.outdim = 2
    return GEOSGeometry(writer.write(geometry), srid=geometry.srid)


def _polygons_of(geometry: GEOSGeometry) -> list[Polygon]:
    """The polygonal parts of any geometry; lines and points left by a repair are dropped."""
    if geometry.empty:
        return []
    if geometry.geom_type == "Polygon":
        return [geometry]
    if geometry.geom_type in {"MultiPolygon", "GeometryCollection"}:
        return [polygon for part in geometry for polygon in _polygons_of(part)]
    return []


def geometry_repair(*, raw: Any, srid: int) -> tuple[MultiPolygon, list[str]]:
    """A valid 2D WGS 84 MultiPolygon from a GeoJSON geometry, and what had to be done to get it.

    Raises ValueError with an operator-facing message when nothing usable is left.
    """
    if not raw:
        raise ValueError(_("it has no geometry"))
    try:
        geometry = GEOSGeometry(json.dumps(raw))
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise ValueError(_("its geometry cannot be read (%(error)s)") % {"error": exc}) from exc
    geometry.srid = srid
    repairs = []
    if geometry.geom_type not in {"Polygon", "MultiPolygon", "GeometryCollection"}:
        raise ValueError(
            _("its geometry is a %(type)s, not an area") % {"type": geometry.geom_type}
        )
    if geometry.empty:
        raise ValueError(_("its geometry is empty"))
    if geometry.hasz:
        geometry = _flat_2d(geometry)
        repairs.append(_("heights (3D coordinates) dropped"))
    if srid != WGS84:
        try:
            geometry.transform(WGS84)
        except (GEOSException, GDALException) as exc:
            raise ValueError(
                _("its geometry cannot be reprojected to WGS 84 (%(error)s)") % {"error": exc}
            ) from exc
    west, south, east, north = geometry.extent
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise ValueError(
            _(
                "its coordinates are not longitude/latitude; "
                "does the file declare its coordinate system (crs)?"
            )
        )
    if not geometry.valid:
        reason = geometry.valid_reason
        repaired = geometry.make_valid()
        polygons = _polygons_of(repaired)
        if not polygons:
            polygons = _polygons_of(geometry.buffer(0))
        if not polygons:
            raise ValueError(
                _("its geometry is invalid (%(reason)s) and cannot be repaired")
                % {"reason": reason}
            )
        geometry = MultiPolygon(*polygons, srid=WGS84)
        repairs.append(_("invalid geometry repaired (%(reason)s)") % {"reason": reason})
    polygons = _polygons_of(geometry)
    if not polygons:
        raise ValueError(_("its geometry has no area"))
    multipolygon = MultiPolygon(*polygons, srid=WGS84)
    if not multipolygon.valid:
        # Parts that are each valid can still overlap; their union is the area meant.
        multipolygon = _as_multipolygon(multipolygon.unary_union)
    if multipolygon.empty or multipolygon.area == 0:
        raise ValueError(_("its geometry has no area"))
    return multipolygon, repairs


def _as_multipolygon(geometry: GEOSGeometry) -> MultiPolygon:
    return MultiPolygon(*_polygons_of(geometry), srid=WGS84)


def _code_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def population_parse(value: Any) -> int:
    """A head count from a property that may be an int, a float (400161.0) or a numeric string."""
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(value) from exc
    if not number.is_finite() or number < 0:
        raise ValueError(value)
    return int(number.to_integral_value())


# --- The import -----------------------------------------------------------------------------------


@dataclass
class _Candidate:
    index: int
    code: str
    name: str
    geometry: MultiPolygon
    population: int | None


def area_import(
    *,
    features: Iterable[Mapping[str, Any]],
    name_field: str,
    code_field: str,
    level: str,
    parent: Area | None = None,
    parent_auto: bool = False,
    population_field: str | None = None,
    population_year: int | None = None,
    source: str = "",
    licence: str = "",
    code_prefix: str = "",
    srid: int = WGS84,
) -> ImportReport:
    """Create or update one Area per feature, keyed by `code_prefix + feature[code_field]`.

    Every feature is checked and repaired first; the ones that cannot be used are reported and
    skipped, the rest are written in one transaction, so a file never lands half-written. Fields
    that the call does not set (population, source, licence, parent) keep what an editor may have
    typed in the admin since the last import.
    """
    if level not in Area.Level.values:
        raise AreaImportError(
            _("Unknown level “%(level)s”; choose one of %(choices)s.")
            % {"level": level, "choices": ", ".join(Area.Level.values)}
        )
    if parent is not None and parent_auto:
        raise AreaImportError(_("Give a parent or ask for automatic parents, not both."))
    if population_year is not None and not population_field:
        raise AreaImportError(_("A population year needs a population field."))

    report = ImportReport()
    candidates = _candidates_collect(
        features=features,
        name_field=name_field,
        code_field=code_field,
        population_field=population_field,
        code_prefix=code_prefix,
        srid=srid,
        report=report,
    )

    with transaction.atomic():
        existing = {
            area.code: area
            for area in Area.objects.filter(
                code__in=[c.code for c in candidates]
            ).select_for_update()
        }
        for candidate in candidates:
            area = existing.get(candidate.code) or Area(code=candidate.code)
            values: dict[str, Any] = {
                "name": candidate.name,
                "level": level,
                "geometry": candidate.geometry,
            }
            if parent is not None:
                values["parent_id"] = parent.pk
            elif parent_auto:
                found = area_parent_find(
                    point=candidate.geometry.point_on_surface, level=level, exclude_code=area.code
                )
                values["parent_id"] = found.pk if found else None
                if found is None:
                    report.warnings.append(
                        FeatureNote(
                            candidate.index,
                            candidate.code,
                            _("no larger area contains it; it has no parent"),
                        )
                    )
            if population_field and candidate.population is not None:
                values["population_total"] = candidate.population
                values["population_year"] = population_year
            if source:
                values["source"] = source
            if licence:
                values["licence"] = licence

            if area.pk is None:
                for name, value in values.items():
                    setattr(area, name, value)
                area.save()
                report.created += 1
            elif _differs(area, values):
                for name, value in values.items():
                    setattr(area, name, value)
                area.save()
                report.updated += 1
            else:
                report.unchanged += 1
            report.codes.append(candidate.code)

    logger.debug(
        "Imported %s areas (%s created, %s updated, %s unchanged), skipped %s",
        report.imported,
        report.created,
        report.updated,
        report.unchanged,
        len(report.skipped),
    )
    return report


def _candidates_collect(
    *,
    features: Iterable[Mapping[str, Any]],
    name_field: str,
    code_field: str,
    population_field: str | None,
    code_prefix: str,
    srid: int,
    report: ImportReport,
) -> list[_Candidate]:
    """Check and repair every feature before anything is written; note the ones to skip."""
    candidates: list[_Candidate] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features, start=1):
        if not isinstance(feature, Mapping):
            report.skipped.append(FeatureNote(index, None, _("it is not a GeoJSON Feature")))
            continue
        properties = feature.get("properties") or {}
        raw_code = _code_of(properties.get(code_field))
        code = f"{code_prefix}{raw_code}" if raw_code else ""

        def skip(message: str, *, index=index, code=code) -> None:
            report.skipped.append(FeatureNote(index, code or None, message))

        if not raw_code:
            skip(_("it has no code in “%(field)s”; skipped") % {"field": code_field})
            continue
        if len(code) > CODE_MAX_LENGTH:
            skip(
                _("its code is longer than %(max)s characters; skipped") % {"max": CODE_MAX_LENGTH}
            )
            continue
        if code in seen:
            skip(
                _("its code already appeared in feature %(first)s; skipped") % {"first": seen[code]}
            )
            continue
        raw_name = properties.get(name_field)
        name = str(raw_name).strip() if raw_name is not None else ""
        if not name:
            skip(_("it has no name in “%(field)s”; skipped") % {"field": name_field})
            continue
        repaired_name = name_repair(name)
        if repaired_name != name:
            report.warnings.append(
                FeatureNote(
                    index,
                    code,
                    _("name “%(before)s” repaired to “%(after)s”")
                    % {"before": name, "after": repaired_name},
                )
            )
            name = repaired_name
        if len(name) > NAME_MAX_LENGTH:
            skip(
                _("its name is longer than %(max)s characters; skipped") % {"max": NAME_MAX_LENGTH}
            )
            continue
        try:
            geometry, repairs = geometry_repair(raw=feature.get("geometry"), srid=srid)
        except ValueError as exc:
            skip(_("%(problem)s; skipped") % {"problem": exc})
            continue
        for repair in repairs:
            report.warnings.append(FeatureNote(index, code, repair))

        population = None
        if population_field:
            raw_population = properties.get(population_field)
            if raw_population is None or str(raw_population).strip() == "":
                report.warnings.append(
                    FeatureNote(
                        index,
                        code,
                        _("it has no population in “%(field)s”; population left as it was")
                        % {"field": population_field},
                    )
                )
            else:
                try:
                    population = population_parse(raw_population)
                except ValueError:
                    report.warnings.append(
                        FeatureNote(
                            index,
                            code,
                            _(
                                "population “%(value)s” is not a whole number of residents; "
                                "population left as it was"
                            )
                            % {"value": raw_population},
                        )
                    )
        seen[code] = index
        candidates.append(_Candidate(index, code, name, geometry, population))
    return candidates


def _differs(area: Area, values: Mapping[str, Any]) -> bool:
    for name, value in values.items():
        current = getattr(area, name)
        if name == "geometry":
            if current is None or not current.equals_exact(value, 1e-9):
                return True
        elif current != value:
            return True
    return False
