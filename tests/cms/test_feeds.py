"""Atom and RSS feeds of a programme and of one of its areas: milestones and public changes,
newest first, in the URL's language, with stable ids, readable by any feed parser."""

import datetime
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext, pgettext

from cms.feeds import MAX_ITEMS
from cms.models import CommitmentMilestone, CommitmentPage, ProgrammePage
from tests.cms.conftest import status

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_url(page, flavour="atom", area=None) -> str:
    if area is None:
        return page.url + page.reverse_subpage("programme_feed", kwargs={"flavour": flavour})
    return page.url + page.reverse_subpage(
        "programme_area_feed", kwargs={"area_id": area.pk, "flavour": flavour}
    )


def read(client, url) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    # Raises on a feed that is not well-formed; the feed is our own output.
    return ET.fromstring(response.content)  # noqa: S314


def entries(root) -> list[dict]:
    return [
        {
            "id": entry.findtext(f"{ATOM}id"),
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "published": entry.findtext(f"{ATOM}published"),
            "updated": entry.findtext(f"{ATOM}updated"),
            "summary": entry.findtext(f"{ATOM}summary") or "",
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def add_milestone(commitment, *, date, title, text="") -> CommitmentPage:
    page = CommitmentPage.objects.get(pk=commitment.pk)
    page.milestones.add(CommitmentMilestone(date=date, title=title, text=text))
    page.save_revision().publish()
    return CommitmentPage.objects.get(pk=commitment.pk)


def republish(commitment, **fields) -> CommitmentPage:
    page = CommitmentPage.objects.get(pk=commitment.pk)
    for name, value in fields.items():
        setattr(page, name, value)
    page.save_revision().publish()
    return CommitmentPage.objects.get(pk=commitment.pk)


def test_the_atom_feed_carries_milestones_and_changes(client, programme, make_commitment):
    commitment = make_commitment("Luminarias en El Chico")
    add_milestone(
        commitment,
        date=datetime.date(2026, 3, 2),
        title="Contrato firmado",
        text="Se firmó el contrato <con> la empresa.",
    )
    republish(commitment, status=status("in-progress"), progress=30)

    root = read(client, feed_url(programme))

    assert root.tag == f"{ATOM}feed"
    assert programme.title in root.findtext(f"{ATOM}title")
    assert "Alcaldía Local de Chapinero" in root.findtext(f"{ATOM}subtitle")
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert urlsplit(links["self"]).path == feed_url(programme)
    assert urlsplit(links["alternate"]).path == programme.url
    items = {item["title"]: item for item in entries(root)}
    milestone = items["Luminarias en El Chico: Contrato firmado"]
    assert milestone["published"].startswith("2026-03-02")
    assert "&lt;con&gt;" in milestone["summary"]  # the editor's text, escaped as HTML
    with translation.override("es"):
        changed = next(t for t in items if "30 %" in t)
        assert (
            pgettext("commitment", "Status") in changed and "Planificado → En ejecución" in changed
        )
        assert f"Luminarias en El Chico: {gettext('New commitment')}" in items


def test_items_are_newest_first(client, programme, make_commitment):
    commitment = make_commitment()
    for day in (5, 20, 12):
        commitment = add_milestone(
            commitment, date=datetime.date(2026, 2, day), title=f"Paso del {day}"
        )
    published = [item["published"] for item in entries(read(client, feed_url(programme)))]
    assert published == sorted(published, reverse=True)


def test_the_rss_feed_is_well_formed_with_stable_guids(client, programme, make_commitment):
    add_milestone(make_commitment(), date=datetime.date(2026, 3, 2), title="Contrato firmado")
    root = read(client, feed_url(programme, "rss"))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") and channel.findtext("description")
    self_link = channel.find(f"{ATOM}link")
    assert self_link.get("rel") == "self"
    assert urlsplit(self_link.get("href")).path == feed_url(programme, "rss")
    items = channel.findall("item")
    assert len(items) == 2  # the milestone and the commitment's first publication
    guids = [item.find("guid") for item in items]
    assert all(guid.get("isPermaLink") == "false" for guid in guids)
    assert len({guid.text for guid in guids}) == 2
    assert all(guid.text.startswith("tag:") for guid in guids)
    assert all(item.findtext("pubDate") for item in items)


def test_an_item_link_opens_the_milestone_on_the_commitment_page(
    client, programme, make_commitment
):
    commitment = add_milestone(
        make_commitment(), date=datetime.date(2026, 3, 2), title="Contrato firmado"
    )
    milestone = commitment.milestones.get()
    item = next(i for i in entries(read(client, feed_url(programme))) if "Contrato" in i["title"])
    link = urlsplit(item["link"])
    assert link.fragment == f"milestone-{milestone.translation_key}"
    assert client.get(link.path).status_code == 200
    assert link.path == commitment.url


def test_correcting_a_milestone_keeps_its_id_and_updates_it(client, programme, make_commitment):
    commitment = add_milestone(
        make_commitment(), date=datetime.date(2026, 3, 2), title="Contrato firmadoo"
    )
    before = next(i for i in entries(read(client, feed_url(programme))) if "Contrato" in i["title"])
    page = CommitmentPage.objects.get(pk=commitment.pk)
    milestone = page.milestones.get()
    milestone.title = "Contrato firmado"
    page.milestones = [milestone]
    page.save_revision().publish()
    after = next(i for i in entries(read(client, feed_url(programme))) if "Contrato" in i["title"])
    assert after["title"].endswith("Contrato firmado")
    assert after["id"] == before["id"]
    assert after["updated"] >= before["updated"]


def test_drafts_never_reach_the_feed(client, programme, make_commitment):
    commitment = make_commitment()
    draft = CommitmentPage.objects.get(pk=commitment.pk)
    draft.progress = 90
    draft.save_revision()  # saved, not published
    hidden = make_commitment("Cámaras en el parque")
    CommitmentPage.objects.get(pk=hidden.pk).unpublish()
    titles = " ".join(item["title"] for item in entries(read(client, feed_url(programme))))
    assert "90 %" not in titles
    assert "Cámaras" not in titles


def test_the_feed_reads_in_the_urls_language(client, locales, programme, make_commitment):
    commitment = add_milestone(
        make_commitment(), date=datetime.date(2026, 3, 2), title="Contrato firmado"
    )
    english_programme = programme.copy_for_translation(locales["en"], copy_parents=True)
    english_programme.title = "A safer Chapinero"
    english_programme.save_revision().publish()
    english = commitment.copy_for_translation(locales["en"])
    english.title = "Street lights in El Chico"
    english.save_revision().publish()
    english = CommitmentPage.objects.get(pk=english.pk)
    milestone = english.milestones.get()
    milestone.title = "Contract signed"
    english.milestones = [milestone]
    english.save_revision().publish()
    english_programme = ProgrammePage.objects.get(pk=english_programme.pk)

    root = read(client, feed_url(english_programme))

    assert root.findtext(f"{ATOM}title").startswith("A safer Chapinero")
    items = entries(root)
    titles = [item["title"] for item in items]
    assert "Street lights in El Chico: Contract signed" in titles
    assert not any("Luminarias" in title for title in titles)
    link = next(i["link"] for i in items if "Contract" in i["title"])
    assert urlsplit(link).path.startswith("/en/")
    # The date is the original's fact.
    assert next(i for i in items if "Contract" in i["title"])["published"].startswith("2026-03-02")


def test_the_area_feed_keeps_the_areas_commitments(
    client, programme, make_commitment, diagnosed, barrios
):
    chico, lago = barrios[0], barrios[1]
    make_commitment("Luminarias en El Chico", areas=[chico])
    make_commitment("Poda de árboles", problems=[diagnosed["lighting"]])  # a problem in El Chico
    make_commitment("Parque de Lago Gaitán", areas=[lago])

    def titles(area):
        return " ".join(i["title"] for i in entries(read(client, feed_url(programme, area=area))))

    in_chico = titles(chico)
    assert "Luminarias en El Chico" in in_chico and "Poda de árboles" in in_chico
    assert "Lago Gaitán" not in in_chico
    in_lago = titles(lago)
    assert "Parque de Lago Gaitán" in in_lago and "Luminarias" not in in_lago
    root = read(client, feed_url(programme, area=chico))
    assert chico.name in root.findtext(f"{ATOM}title")


def test_an_area_the_programme_does_not_concern_has_no_feed(client, programme, barrios):
    polo_club = barrios[2]
    assert client.get(feed_url(programme, area=polo_club)).status_code == 404
    missing = programme.url + programme.reverse_subpage(
        "programme_area_feed", kwargs={"area_id": 999999, "flavour": "rss"}
    )
    assert client.get(missing).status_code == 404


def test_a_draft_programme_has_no_feed(client, programme):
    url = feed_url(programme)
    ProgrammePage.objects.get(pk=programme.pk).unpublish()
    assert client.get(url).status_code == 404


def test_an_unknown_flavour_is_not_found(client, programme):
    assert client.get(programme.url + "feed/json/").status_code == 404


def test_the_feed_keeps_the_newest_items(client, programme, make_commitment):
    commitment = make_commitment()
    page = CommitmentPage.objects.get(pk=commitment.pk)
    for day in range(MAX_ITEMS + 5):
        page.milestones.add(
            CommitmentMilestone(
                date=datetime.date(2025, 1, 1) + datetime.timedelta(days=day),
                title=f"Paso {day}",
            )
        )
    page.save_revision().publish()
    items = entries(read(client, feed_url(programme)))
    assert len(items) == MAX_ITEMS
    # The commitment's publication (today) and the 49 latest of the 55 milestones.
    steps = {item["title"].rsplit(": ", 1)[1] for item in items if ": Paso " in item["title"]}
    assert steps == {f"Paso {day}" for day in range(6, MAX_ITEMS + 5)}


def test_the_number_of_queries_does_not_grow_with_commitments(
    client, programme, make_commitment, diagnosed
):
    def queries() -> int:
        client.get(feed_url(programme))  # warm the route and site caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(feed_url(programme)).status_code == 200
        return len(captured)

    for n in range(2):
        commitment = make_commitment(f"Compromiso {n}", problems=[diagnosed["lighting"]])
        add_milestone(commitment, date=datetime.date(2026, 3, 1 + n), title=f"Paso {n}")
    few = queries()
    for n in range(2, 7):
        commitment = make_commitment(f"Compromiso {n}", problems=[diagnosed["lighting"]])
        commitment = add_milestone(commitment, date=datetime.date(2026, 3, 1 + n), title="Paso")
        republish(commitment, status=status("in-progress"))
    assert queries() == few
