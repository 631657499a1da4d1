"""No open-data endpoint leaks what the data rules withhold (docs/privacy.md).

A site holding every kind of private detail next to the public data (`open_site`) is read through
every open-data door — Open311 (JSON and XML), OGC API – Features (JSON and HTML, crawled by
following its own links), the OpenAPI document, every bulk export in every format, and the site's
own map and report data — and each body is searched for:

- an exact point of any concern or walk stop, or the public point of a concern that is not public
  (sensitive, pending, rejected), as a (lon, lat) or (lat, lon) pair of consecutive numbers;
- a reference code, a description, a photo's file, a reporter's contact, a pending stop's notes,
  or the public identifier of a concern that is not public;
- a total of a sensitive category below k.
"""

import csv
import io
import json
from collections import deque
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from maps.suppression import suppression_k
from tests.opendata.conftest import (
    SECRET_DESCRIPTION,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_NOTES_PENDING,
    SECRET_PHONE,
    approve,
    coordinate_pairs,
)

# Two published numbers this close (about 0.5 m) to a secret point count as that point.
TOLERANCE = 5e-6


class Secrets:
    def __init__(self, site, barrios, submit, categories):
        # Two sensitive concerns in another barrio: a total of 2, below k, which nothing may show.
        below_k = [
            submit(category=categories["domestic"], point=None, area=barrios[1]) for _ in range(2)
        ]
        approve(*below_k)
        self.sensitive_code = categories["domestic"].code
        self.sensitive_name = categories["domestic"].name
        self.below_k_area = barrios[1].name
        self.k = suppression_k()
        concerns = [*site["private_concerns"], *below_k]
        for concern in concerns:
            concern.refresh_from_db()
        public = {c.public_id for c in [*site["shown"], site["asset"], site["with_photo"]]}
        public |= {c.public_id for c in site["diagnosed"]["concerns"]}
        self.points = [(c.point.x, c.point.y) for c in concerns if c.point is not None]
        self.points += [(s.point.x, s.point.y) for s in (site["shown_stop"], site["pending_stop"])]
        self.points += [
            (c.public_point.x, c.public_point.y)
            for c in concerns
            if c.public_id not in public and c.public_point is not None
        ]
        # A walk's route is public (the report draws it); a concern the fixtures placed on one
        # of its corners does not make the corner secret.
        route = {(round(x, 5), round(y, 5)) for x, y in site["walk"].route.coords}
        self.points = [p for p in self.points if (round(p[0], 5), round(p[1], 5)) not in route]
        # Published at 5 decimals (about 1 m), two fuzzed points of one 150 m cell fall on the
        # same rounded pair about once in 10,000 pairs: a secret point that happens to sit on a
        # public one cannot be told apart from it, and would fail the test by chance. (Hidden
        # concerns are also caught by their public identifiers.)
        self.shown_points = [
            (c.public_point.x, c.public_point.y)
            for c in concerns
            if c.public_id in public and c.public_point is not None
        ]
        stop = site["shown_stop"]
        stop.refresh_from_db()
        self.shown_points.append((stop.public_point.x, stop.public_point.y))
        self.points = [p for p in self.points if not self._near_shown(p)]
        photo = site["with_photo"]
        self.strings = {
            SECRET_DESCRIPTION,
            SECRET_EMAIL,
            SECRET_PHONE,
            SECRET_NAME,
            SECRET_NOTES_PENDING,
            site["pending_stop"].reference,
            photo.photo.name.rsplit("/", 1)[-1],
            *(c.reference for c in concerns),
            *(c.public_id for c in concerns if c.public_id not in public),
        }
        if photo.photo_thumbnail:
            self.strings.add(photo.photo_thumbnail.name.rsplit("/", 1)[-1])
        self.public_ids = public

    def _near_shown(self, point) -> bool:
        return any(
            abs(point[0] - x) < 2 * TOLERANCE and abs(point[1] - y) < 2 * TOLERANCE
            for x, y in self.shown_points
        )

    def check_text(self, where: str, text: str) -> list[str]:
        found = [f"{where}: contains {secret!r}" for secret in self.strings if secret in text]
        for a, b in coordinate_pairs(text):
            for x, y in self.points:
                for first, second in ((x, y), (y, x)):
                    if abs(a - first) < TOLERANCE and abs(b - second) < TOLERANCE:
                        found.append(f"{where}: contains the secret point {x}, {y}")
        return found

    def check_rows(self, where: str, rows) -> list[str]:
        """Rows (dicts) of a table: no sensitive total below k."""
        found = []
        for row in rows:
            values = {str(v) for v in row.values() if v is not None}
            if not values & {self.sensitive_code, self.sensitive_name}:
                continue
            for key in ("count", "total", "n"):
                value = row.get(key)
                if isinstance(value, str) and value.isdigit():
                    value = int(value)
                if isinstance(value, int) and 0 < value < self.k:
                    found.append(f"{where}: a sensitive total of {value} (below k)")
        return found

    def check_json(self, where: str, data) -> list[str]:
        found = []
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                found += self.check_rows(where, [item])
                # Totals keyed by category, e.g. {"concerns_domestic-violence": 2}.
                found += [
                    f"{where}: {key} = {value} (below k)"
                    for key, value in item.items()
                    if self.sensitive_code in str(key)
                    and isinstance(value, int)
                    and 0 < value < self.k
                ]
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        return found


@pytest.fixture
def secrets(open_site, barrios, submit, categories):
    return Secrets(open_site, barrios, submit, categories)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _check_response(secrets, url: str, response) -> list[str]:
    body = _body(response)
    content_type = response.get("Content-Type", "")
    if response.get("Content-Encoding") == "gzip":
        import gzip

        body = gzip.decompress(body)
    if "spreadsheetml" in content_type or body[:2] == b"PK":
        workbook = load_workbook(io.BytesIO(body), read_only=True)
        found = []
        for sheet in workbook.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            text = "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows)
            found += secrets.check_text(f"{url} [{sheet.title}]", text)
            if rows:
                header = [str(h) for h in rows[0]]
                found += secrets.check_rows(
                    url, [dict(zip(header, r, strict=False)) for r in rows[1:]]
                )
        return found
    text = body.decode("utf-8-sig", errors="replace")
    found = secrets.check_text(url, text)
    if "json" in content_type:
        found += secrets.check_json(url, json.loads(text))
    elif "csv" in content_type:
        found += secrets.check_rows(url, list(csv.DictReader(io.StringIO(text))))
    return found


def _links(data) -> list[str]:
    """Every `href` in a JSON document (OGC API links)."""
    hrefs, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("href"), str):
                hrefs.append(item["href"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return hrefs


def _local(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.netloc not in ("", "testserver"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _crawl(client, secrets, start: str, *, limit: int = 150) -> tuple[list[str], int]:
    """Follow the JSON links from `start` (same site, GET), checking every response."""
    found, seen, queue = [], set(), deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200:
            continue
        found += _check_response(secrets, url, response)
        if "json" in response.get("Content-Type", ""):
            for href in _links(json.loads(_body(response))):
                local = _local(href)
                if local and local.startswith("/api/") and local not in seen:
                    queue.append(local)
    return found, len(seen)


def test_the_checker_catches_leaks(secrets, open_site):
    """The detector itself: a body with an exact point, a reference or a below-k cell is caught."""
    concern = open_site["shown"][0]
    leaky = json.dumps({"coordinates": [concern.point.x, concern.point.y]})
    assert secrets.check_text("x", leaky)
    assert secrets.check_text("x", f"<lat>{concern.point.y}</lat><long>{concern.point.x}</long>")
    assert secrets.check_text("x", f"ref {concern.reference}")
    assert secrets.check_text("x", f'"lat": {concern.point.y:.5f}, "long": {concern.point.x:.5f}')
    # One row's longitude and the next row's latitude are not a point.
    rows = (
        f"<tr><td>4.60000, {concern.point.x:.5f}</td></tr>\n"
        f'<tr><th scope="row"><a href="/items/abc">abc</a></th>'
        f"<td>{concern.point.y:.5f}, -74.00000</td></tr>"
    )
    assert not secrets.check_text("x", rows)
    row = {"category": secrets.sensitive_code, "area": secrets.below_k_area, "count": 2}
    assert secrets.check_json("x", {"rows": [row]})
    assert not secrets.check_text("x", json.dumps({"id": open_site["shown"][0].public_id}))


def test_the_features_api_leaks_nothing(client, secrets):
    found, visited = _crawl(client, secrets, "/api/features/?f=json")
    found2, visited2 = _crawl(
        client, secrets, "/api/features/collections/concerns/items?limit=1000"
    )
    assert visited + visited2 > 10
    for public_id in secrets.public_ids:
        response = client.get(f"/api/features/collections/concerns/items/{public_id}?f=json")
        found += _check_response(secrets, public_id, response)
    assert not found + found2, "\n".join(found + found2)


def test_the_features_api_html_pages_leak_nothing(client, secrets):
    found = []
    for collection in ("areas", "concerns", "walk-stops", "problems", "commitments"):
        for url in (
            f"/api/features/collections/{collection}?f=html",
            f"/api/features/collections/{collection}/items?f=html&limit=1000",
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            found += _check_response(secrets, url, response)
    assert not found, "\n".join(found)


def test_open311_leaks_nothing(client, secrets, open_site):
    found = []
    urls = ["/open311/discovery.json"]
    for fmt in ("json", "xml"):
        urls += [
            f"/open311/v2/services.{fmt}",
            f"/open311/v2/requests.{fmt}",
            f"/open311/v2/requests.{fmt}?page_size=1000",
        ]
        for code in ("poor-lighting", "community-centre", "street-harassment"):
            urls.append(f"/open311/v2/services/{code}.{fmt}")
            urls.append(f"/open311/v2/requests.{fmt}?service_code={code}")
        for public_id in secrets.public_ids:
            urls.append(f"/open311/v2/requests/{public_id}.{fmt}")
            urls.append(f"/open311/v2/request/{public_id}.{fmt}")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        found += _check_response(secrets, url, response)
    assert not found, "\n".join(found)


def test_open311_answers_a_private_request_as_an_unknown_one(client, open_site):
    """Pending, rejected and sensitive concerns get the very 404 a made-up id gets (the id
    echoed back is the only difference): no oracle for what is waiting or hidden."""
    hidden = [open_site["pending"], open_site["rejected"], *open_site["sensitive"]]
    for fmt in ("json", "xml"):
        made_up = client.get(f"/open311/v2/requests/ZZZZZZZZZZ.{fmt}")
        assert made_up.status_code == 404
        for concern in hidden:
            response = client.get(f"/open311/v2/requests/{concern.public_id}.{fmt}")
            assert response.status_code == 404
            assert response.content.replace(concern.public_id.encode(), b"ZZZZZZZZZZ") == (
                made_up.content
            )


@pytest.mark.parametrize("fmt", ["csv", "geojson", "xlsx"])
def test_no_export_leaks_anything(client, secrets, django_capture_on_commit_callbacks, fmt):
    found = []
    for dataset in ("concerns", "area-totals", "walk-stops"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/exports/",
                data=json.dumps({"dataset": dataset, "format": fmt}),
                content_type="application/json",
            )
        assert response.status_code == 202, response.content
        job = client.get(response.json()["links"]["self"]).json()
        assert job["status"] == "done", job
        download = client.get(job["links"]["download"])
        assert download.status_code == 200
        found += _check_response(secrets, f"{dataset}.{fmt}", download)
    assert not found, "\n".join(found)


def test_the_site_map_and_report_data_leak_nothing(client, secrets, open_site):
    consultation = open_site["diagnosed"]["page"].get_parent().specific
    results = open_site["diagnosed"]["page"]
    walk = open_site["walk"]
    found = []
    urls = [
        consultation.url + "map/areas/",
        results.url + "map/",
        results.url + "download/geojson/",
    ]
    urls += [
        consultation.url + f"map/features/?bbox=-74.07,4.65,-74.03,4.69&zoom={zoom}"
        for zoom in (12, 15, 16, 18)
    ]
    urls += [f"/es/walks/{walk.uuid}/stops.geojson", f"/es/walks/{walk.uuid}/stops.csv"]
    urls += ["/api/schema/", "/es/open-data/"]
    for url in urls:
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, url
        found += _check_response(secrets, url, response)
    assert not found, "\n".join(found)
