"""Shared pieces of the participation tests: staff accounts and a filled-in concern form."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from diagnosis.services.groups import FACILITATORS, MODERATORS
from tests.conftest import EL_CHICO_POINT


def staff(username: str, *groups: str):
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw")
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def moderator(db):
    return staff("mara", MODERATORS)


@pytest.fixture
def facilitator(db):
    return staff("fede", FACILITATORS)


def form_data(categories, **overrides):
    lon, lat = EL_CHICO_POINT
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "category": str(categories["lighting"].pk),
        "description": "La calle está muy oscura de noche.",
        "latitude": str(lat),
        "longitude": str(lon),
        "area": "",
        "place_description": "",
        "time_band": "night",
        "day_type": "both",
        "frequency": "often",
        "affected": ["women", "older"],
        "gender": "",
        "gender_description": "",
        "age_band": "",
    }
    data.update(overrides)
    return data
