"""The concern_submit service: the rules every entry path obeys."""

import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import transaction

from diagnosis.models import Concern, ConcernCategory
from diagnosis.services import ConcernRejected, concern_submit
from tests.conftest import EL_CHICO_POINT, OUTSIDE_POINT
from tests.diagnosis.conftest import form_data


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


def test_double_submit_after_closing_returns_the_first_concern(submit, consultation):
    # The resident's phone resends after the consultation closed: they get their reference back.
    key = uuid.uuid4()
    first = submit(idempotency_key=key)
    consultation.phase = consultation.Phase.CLOSED
    consultation.save_revision().publish()
    assert submit(idempotency_key=key).pk == first.pk
    assert Concern.objects.count() == 1


def test_double_submit_inside_a_transaction_leaves_it_usable(submit):
    key = uuid.uuid4()
    with transaction.atomic():
        first = submit(idempotency_key=key)
        second = submit(idempotency_key=key, description="again")
        # The refused INSERT was rolled back to a savepoint, not the caller's whole transaction.
        assert Concern.objects.filter(pk=first.pk).exists()
    assert second.pk == first.pk
    assert Concern.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_double_submit_in_autocommit_creates_one_concern(submit):
    key = uuid.uuid4()
    first = submit(idempotency_key=key)
    second = submit(idempotency_key=key, description="again")
    assert second.pk == first.pk
    assert Concern.objects.get().description == first.description


def test_published_category_change_applies_at_once(submit, consultation, categories):
    submit()  # the consultation's rules are now cached
    consultation.categories.set([categories["harassment"], categories["centre"]])
    consultation.save_revision().publish()
    consultation = type(consultation).objects.get(pk=consultation.pk)
    with pytest.raises(ConcernRejected) as excinfo:
        submit(consultation=consultation, category=categories["lighting"])
    assert excinfo.value.field == "category"
    assert submit(consultation=consultation, category=categories["harassment"]).pk


def test_category_translated_after_the_rules_were_cached_is_accepted(
    client, consultation, categories, locales
):
    assert client.get("/es/chapinero/report/").status_code == 200  # rules cached
    english = categories["lighting"].copy_for_translation(locales["en"])
    english.name = "Poor lighting"
    english.save()
    response = client.post("/es/chapinero/report/", form_data(categories, category=str(english.pk)))
    assert response.status_code == 303
    concern = Concern.objects.get()
    assert concern.category_id == english.pk
    assert concern.category_key == categories["lighting"].translation_key


def test_category_of_another_consultation_is_refused_by_the_form(
    client, consultation, categories, locales
):
    other = ConcernCategory.objects.create(
        locale=locales["es"], code="graffiti", name="Grafiti", kind="risk"
    )
    response = client.post("/es/chapinero/report/", form_data(categories, category=str(other.pk)))
    assert response.status_code == 400
    assert Concern.objects.count() == 0
