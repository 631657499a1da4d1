"""A real Open311 client against a live server: the `georeport` library (PyPI) reads services and
requests in JSON and XML; a request is sent the way such clients send one (form-encoded POST —
the library itself only reads) and goes through moderation before the library can see it.

Also: the contact details a client sent are shown to a moderator, and only there.
"""

import pytest
import requests
from django.contrib.auth import get_user_model
from georeport import GeoReport

from diagnosis.models import Concern
from tests.conftest import EL_CHICO_POINT
from tests.opendata.conftest import SECRET_EMAIL, SECRET_NAME, SECRET_PHONE, approve

LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _send(live_server, **extra):
    data = {
        "service_code": "poor-lighting",
        "lat": str(EL_CHICO_POINT[1]),
        "long": str(EL_CHICO_POINT[0]),
        "description": "Poste apagado.",
        "email": SECRET_EMAIL,
        "phone": SECRET_PHONE,
        "first_name": SECRET_NAME,
        **extra,
    }
    response = requests.post(f"{live_server.url}/open311/v2/requests.json", data=data, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()[0]


@LIVE
def test_the_georeport_client_reads_and_a_sent_request_appears_after_approval(
    live_server, consultation
):
    for output_format in ("json", "xml"):
        client = GeoReport(f"{live_server.url}/open311/v2", output_format=output_format)
        services = client.get_service_list()
        assert {service["service_code"] for service in services} == {
            "poor-lighting",
            "street-harassment",
            "community-centre",
        }
        definition = client.get_service_definition("poor-lighting")
        assert definition["service_code"] == "poor-lighting"

    sent = _send(live_server)
    concern = Concern.objects.get(public_id=sent["service_request_id"])
    # In the moderation queue, not public.
    assert concern.status == Concern.Status.PENDING
    client = GeoReport(f"{live_server.url}/open311/v2", jurisdiction="chapinero")
    assert client.get_service_requests() == []
    with pytest.raises(requests.HTTPError):
        client.get_service_request(sent["service_request_id"])

    approve(concern)
    concern.refresh_from_db()
    [listed] = client.get_service_requests(service_code="poor-lighting", status="open")
    one = client.get_service_request(sent["service_request_id"])
    assert listed == one
    assert one["service_request_id"] == concern.public_id
    assert (one["long"], one["lat"]) == (
        round(concern.public_point.x, 5),
        round(concern.public_point.y, 5),
    )
    assert (one["long"], one["lat"]) != (round(concern.point.x, 5), round(concern.point.y, 5))
    as_xml = GeoReport(f"{live_server.url}/open311/v2", output_format="xml")
    from_xml = as_xml.get_service_request(concern.public_id)
    assert from_xml["lat"] == str(one["lat"]) and from_xml["service_code"] == "poor-lighting"


@LIVE
def test_contact_details_show_to_a_moderator_and_nowhere_public(live_server, consultation, client):
    sent = _send(live_server)
    concern = Concern.objects.get(public_id=sent["service_request_id"])
    approve(concern)
    moderator = get_user_model().objects.get(username="moderator")
    client.force_login(moderator)
    inspect = client.get(f"/admin/snippets/diagnosis/concern/inspect/{concern.pk}/")
    assert inspect.status_code == 200
    page = inspect.content.decode()
    for secret in (SECRET_EMAIL, SECRET_PHONE, SECRET_NAME):
        assert secret in page
    client.logout()
    public = [
        requests.get(f"{live_server.url}{path}", timeout=30).text
        for path in (
            "/open311/v2/requests.json",
            "/open311/v2/requests.xml",
            f"/open311/v2/requests/{concern.public_id}.json",
            f"/open311/v2/tokens/{sent['token']}.json",
            consultation.url + "map/features/?bbox=-74.06,4.66,-74.04,4.68&zoom=17",
        )
    ]
    for text in public:
        for secret in (SECRET_EMAIL, SECRET_PHONE, SECRET_NAME, "Poste apagado"):
            assert secret not in text
