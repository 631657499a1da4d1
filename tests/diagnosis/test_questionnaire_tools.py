"""Facilitators find the questionnaire tools where they work: the consultation's menu in the page
editor, the responses page, and the Participation menu."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.diagnosis.test_questionnaire_submit import questionnaire_set

TOOLS = {
    "questionnaire_bank:add": "Add questions from the question bank",
    "questionnaire_xlsform:upload": "Import an XLSForm",
    "questionnaire_paper:enter": "Enter a paper questionnaire",
    "questionnaire_responses:detail": "Questionnaire responses",
    "diagnosis_runs:consultation": "Diagnosis",
}


@pytest.fixture
def admin(client, db):
    client.force_login(get_user_model().objects.create_superuser("ana", "ana@example.org", "pw"))
    return client


@pytest.fixture
def surveyed(consultation):
    return questionnaire_set(consultation)


def tool_link(name: str, page) -> str:
    with translation.override("es"):
        label = gettext(TOOLS[name])
    return f'href="{reverse(name, args=[page.pk])}"', label


def test_the_consultation_menu_in_the_editor_has_every_tool(admin, surveyed):
    html = admin.get(reverse("wagtailadmin_pages:edit", args=[surveyed.pk])).content.decode()
    for name in TOOLS:
        href, label = tool_link(name, surveyed)
        assert href in html and label in html, name


def test_other_pages_have_no_questionnaire_tools(admin, surveyed, home):
    html = admin.get(reverse("wagtailadmin_pages:edit", args=[home.pk])).content.decode()
    for name in TOOLS:
        assert reverse(name, args=[home.pk]) not in html, name
        assert reverse(name, args=[surveyed.pk]) not in html, name


def test_the_responses_page_links_the_other_tools(admin, surveyed):
    response = admin.get(reverse("questionnaire_responses:detail", args=[surveyed.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for name in (
        "questionnaire_bank:add",
        "questionnaire_xlsform:upload",
        "questionnaire_paper:enter",
    ):
        href, label = tool_link(name, surveyed)
        assert href in html and label in html, name
        assert admin.get(reverse(name, args=[surveyed.pk])).status_code == 200


def test_the_participation_menu_lists_questionnaire_responses(admin, surveyed):
    html = admin.get(reverse("wagtailadmin_home")).content.decode()
    with translation.override("es"):
        label = gettext("Questionnaire responses")
    assert reverse("questionnaire_responses:index") in html
    assert label in html
