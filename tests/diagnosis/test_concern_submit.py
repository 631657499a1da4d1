"""The concern_submit service: the rules every entry path obeys."""

import uuid

import pytest
from django.contrib.gis.geos import Point

from diagnosis.models import Concern
from diagnosis.services import ConcernRejected, concern_submit
from tests.conftest import EL_CHICO_POINT, OUTSIDE_POINT


def test_point_gets_area_and_public_cell(submit, barrios):
    concern = submit()
    assert concern.area == barrios[0]
    assert concern.cell_x is not None and concern.cell_y is not None
    assert concern.public_point.distance(concern.point) > 0
    assert concern.reference and concern.status == Concern.Status.PENDING


def test_point_outside_consultation_is_refused(submit):
    with pytest.raises(ConcernRejected) as excinfo:
        submit(point=Point(*OUTSIDE_POINT, srid=4326))
    assert excinfo.value.field == "point"
    assert Concern.objects.count() == 0


def test_same_idempotency_key_creates_one_concern(submit):
    key = uuid.uuid4()
    first = submit(idempotency_key=key)
    second = submit(idempotency_key=key, description="again")
    assert first.pk == second.pk
    assert Concern.objects.count() == 1


def test_concern_counts_by_translation_keys(submit, consultation, categories):
    concern = submit()
    assert concern.consultation_key == consultation.translation_key
    assert concern.category_key == categories["lighting"].translation_key


def test_place_needed_without_point(consultation, categories):
    with pytest.raises(ConcernRejected) as excinfo:
        concern_submit(
            consultation=consultation,
            category=categories["lighting"],
            idempotency_key=uuid.uuid4(),
            language="es",
        )
    assert excinfo.value.field == "place_description"


def test_closed_consultation_refuses(submit, consultation):
    consultation.phase = consultation.Phase.CLOSED
    consultation.save()
    with pytest.raises(ConcernRejected):
        submit(point=Point(*EL_CHICO_POINT, srid=4326))
