"""Staff accounts for the participation tests, in the groups `migrate` creates."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from diagnosis.services.groups import FACILITATORS, MODERATORS


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
