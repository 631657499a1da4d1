"""Open311 GeoReport v2 at /open311/v2/: what other reporting apps read and send.

Responses are checked against the Open311 community's own JSON Schemas and Swagger definitions
(tests/data/open311-georeport-v2, CC BY 3.0, wiki.open311.org; see its SOURCE.md).
"""

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
from defusedxml import ElementTree as ET
from django.utils import timezone
from referencing import Registry, Resource

from diagnosis.models import Concern, ConcernContact
from diagnosis.services.open311 import CONTACT_FIELDS
from tests.conftest import EL_CHICO_POINT, OUTSIDE_POINT
from tests.opendata.conftest import (
    EXACT_POINTS,
    SECRET_DESCRIPTION,
    SECRET_EMAIL,
    SECRET_NAME,
    SECRET_PHONE,
    approve,
    contains_point,
)

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "open311-georeport-v2"
V2 = "/open311/v2"


def _schema_registry() -> Registry:
    resources = []
    for name in ("request", "requests", "service", "services", "service-definition"):
        contents = json.loads((SCHEMAS / f"{name}.json").read_text())
        contents.setdefault("$schema", "http://json-schema.org/draft-04/schema#")
        resources.append((f"{name}.json", Resource.from_contents(contents)))
    return Registry().with_resources(resources)


REGISTRY = _schema_registry()
SWAGGER = json.loads((SCHEMAS / "swagger.json").read_text())


def validate_json_schema(body, name: str) -> None:
    """Against the community's JSON Schema file `name`.json (draft 4)."""
    schema = REGISTRY.contents(f"{name}.json")
    jsonschema.Draft4Validator(
        schema, registry=REGISTRY, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(body)


def validate_swagger(body, definition: str) -> None:
    """Against a definition of the community's Swagger 2.0 document."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": SWAGGER["definitions"]}
    jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(body)


def get(client, path, **params):
    return client.get(V2 + path, params)


def xml_items(response, item: str) -> list[dict]:
    root = ET.fromstring(response.content)
    return [{child.tag: child.text for child in element} for element in root.iter(item)]


def post(client, path=V2 + "/requests.json", **data):
    return client.post(path, data)


# --- Services ---------------------------------------------------------------------------------


def test_services_offer_the_public_categories_in_the_readers_language(client, consultation):
    response = get(client, "/services.json", lang="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    validate_json_schema(body, "services")
    for service in body:
        validate_swagger(service, "Service")
    codes = [service["service_code"] for service in body]
    assert sorted(codes) == ["community-centre", "poor-lighting", "street-harassment"]
    assert "domestic-violence" not in codes  # sensitive: never offered
    by_code = {service["service_code"]: service for service in body}
    assert by_code["poor-lighting"]["service_name"] == "Alumbrado deficiente"
    assert by_code["poor-lighting"]["type"] == "realtime"
    assert by_code["poor-lighting"]["metadata"] is True
    assert by_code["poor-lighting"]["group"] == "Risk"
    assert by_code["community-centre"]["group"] == "Asset"


def test_services_as_xml_carry_the_same_data(client, consultation):
    json_body = get(client, "/services.json").json()
    response = get(client, "/services.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<services>')
    items = xml_items(response, "service")
    assert [item["service_code"] for item in items] == [s["service_code"] for s in json_body]
    assert [item["service_name"] for item in items] == [s["service_name"] for s in json_body]
    assert {item["metadata"] for item in items} == {"true"}


def test_service_definition_maps_the_optional_questions(client, consultation):
    response = get(client, "/services/poor-lighting.json", lang="en")
    assert response.status_code == 200
    body = response.json()
    validate_json_schema(body, "service-definition")
    validate_swagger(body, "ServiceDefinition")
    attributes = {attribute["code"]: attribute for attribute in body["attributes"]}
    assert set(attributes) == {"time_band", "day_type", "frequency", "affected"}
    assert attributes["affected"]["datatype"] == "multivaluelist"
    assert attributes["time_band"]["datatype"] == "singlevaluelist"
    assert {"key": "night", "name": "Night (22–6 h)"} in attributes["time_band"]["values"]
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3, 4]
    xml = get(client, "/services/poor-lighting.xml", lang="en")
    root = ET.fromstring(xml.content)
    assert root.tag == "service_definition"
    assert [e.text for e in root.iter("code")] == [a["code"] for a in body["attributes"]]
    assert "Night (22–6 h)" in [e.text for e in root.iter("name")]


def test_a_sensitive_or_unknown_service_has_no_definition(client, consultation):
    for code in ("domestic-violence", "no-such-thing"):
        response = get(client, f"/services/{code}.json")
        assert response.status_code == 404
        assert response.json()[0]["code"] == 404


# --- Reading service requests -----------------------------------------------------------------


def test_requests_are_the_public_concerns_at_public_points(client, public_concerns_data):
    response = get(client, "/requests.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    validate_json_schema(body, "requests")
    for item in body:
        validate_swagger(item, "Request")
    shown = [*public_concerns_data["shown"], public_concerns_data["asset"]]
    assert {item["service_request_id"] for item in body} == {c.public_id for c in shown}
    for item in body:
        concern = next(c for c in shown if c.public_id == item["service_request_id"])
        assert item["status"] == "open"
        assert (item["long"], item["lat"]) == (
            round(concern.public_point.x, 5),
            round(concern.public_point.y, 5),
        )
        assert item["address"] == "El Chico"
        assert "description" not in item and "media_url" not in item
        # The day only, at local midnight with its offset: the time is withheld.
        day = timezone.localtime(concern.submitted_at).date()
        assert item["requested_datetime"] == f"{day.isoformat()}T00:00:00-05:00"
    text = response.content.decode()
    for lon, lat in EXACT_POINTS:
        assert not contains_point(text, lon, lat)
    for concern in Concern.objects.all():
        assert concern.reference not in text


def test_pending_rejected_and_sensitive_concerns_never_appear(client, open_site):
    hidden = [
        open_site["pending"],
        open_site["rejected"],
        *open_site["sensitive"],
    ]
    ids = ",".join(concern.public_id for concern in hidden)
    for response in (
        get(client, "/requests.json"),
        get(client, "/requests.json", service_request_id=ids),
        get(client, "/requests.xml"),
    ):
        text = response.content.decode()
        for concern in hidden:
            assert concern.public_id not in text
        for secret in (SECRET_DESCRIPTION, SECRET_EMAIL, SECRET_PHONE, SECRET_NAME):
            assert secret not in text
    for concern in hidden:
        response = get(client, f"/requests/{concern.public_id}.json")
        assert response.status_code == 404
        assert response.json() == [{"code": 404, "description": response.json()[0]["description"]}]
    assert get(client, "/requests.json", service_code="domestic-violence").status_code == 400


def test_one_request_by_id_in_json_and_xml_at_both_addresses(client, public_concerns_data):
    concern = public_concerns_data["shown"][0]
    response = get(client, f"/requests/{concern.public_id}.json")
    assert response.status_code == 200
    body = response.json()
    validate_json_schema(body, "requests")
    # The Swagger file describes this resource as one Request (the spec: a list of one).
    validate_swagger(body[0], "Request")
    assert body[0]["service_request_id"] == concern.public_id
    assert get(client, f"/request/{concern.public_id}.json").json() == body
    xml = xml_items(get(client, f"/requests/{concern.public_id}.xml"), "request")
    assert xml == [{key: str(value) for key, value in body[0].items()}]


def test_xml_requests_carry_the_same_data_as_json(client, public_concerns_data):
    body = get(client, "/requests.json").json()
    items = xml_items(get(client, "/requests.xml"), "request")
    assert items == [{key: str(value) for key, value in item.items()} for item in body]


def test_filters_by_id_code_days_status_and_pages(client, public_concerns_data):
    shown = public_concerns_data["shown"]
    today = timezone.localdate()
    ids = [item["service_request_id"] for item in get(client, "/requests.json").json()]
    by_id = get(client, "/requests.json", service_request_id=f"{shown[0].public_id},nope")
    assert [item["service_request_id"] for item in by_id.json()] == [shown[0].public_id]
    lighting = get(client, "/requests.json", service_code="poor-lighting").json()
    assert {item["service_request_id"] for item in lighting} == {c.public_id for c in shown}
    both = get(client, "/requests.json", service_code="poor-lighting,community-centre").json()
    assert len(both) == 3
    day = get(client, "/requests.json", start_date=f"{today}T00:00:00-05:00", end_date=str(today))
    assert len(day.json()) == 3
    tomorrow = today + datetime.timedelta(days=1)
    assert get(client, "/requests.json", start_date=str(tomorrow)).json() == []
    assert get(client, "/requests.json", status="closed").json() == []
    assert len(get(client, "/requests.json", status="open,closed").json()) == 3
    first = get(client, "/requests.json", page_size=2).json()
    second = get(client, "/requests.json", page_size=2, page=2).json()
    assert [item["service_request_id"] for item in first + second] == ids
    assert len(first) == 2 and len(second) == 1


def test_jurisdiction_is_a_slug_or_translation_key(client, public_concerns_data, consultation):
    by_slug = get(client, "/requests.json", jurisdiction_id="chapinero").json()
    by_key = get(client, "/requests.json", jurisdiction_id=str(consultation.translation_key))
    assert len(by_slug) == 3 and by_key.json() == by_slug
    unknown = get(client, "/requests.json", jurisdiction_id="gotham.gov")
    assert unknown.status_code == 404
    assert get(client, "/services.json", jurisdiction_id="gotham.gov").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45"},
        {"start_date": "9999-12-31"},
        {"end_date": "0001-01-01T00:00:00+05:00"},
        {"start_date": "2026-01-01", "end_date": "2026-06-01"},  # more than 90 days
        {"start_date": "2026-02-01", "end_date": "2026-01-01"},
        {"status": "pending"},
        {"page": "0"},
        {"page_size": "1001"},
        {"service_code": "no-such-thing"},
        {"lang": "xx"},
    ],
)
def test_bad_filters_get_a_400_in_open311_format(client, consultation, params):
    response = get(client, "/requests.json", **params)
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400 and error["description"]
    xml = get(client, "/requests.xml", **params)
    assert xml.status_code == 400
    root = ET.fromstring(xml.content)
    assert root.tag == "errors"
    assert root.find("error/code").text == "400"


def test_unknown_format_and_address_get_open311_errors(client, consultation):
    response = client.get(V2 + "/services.csv")
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400
    response = client.get("/open311/v3/services.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404
    assert client.get(V2 + "/tokens/whatever.json").status_code == 404


def test_error_messages_follow_the_request_language(client, consultation):
    english = client.get(
        V2 + "/requests.json", {"start_date": "someday"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english.json()[0]["description"] == (
        "start_date must be a date and time such as 2026-01-31T00:00:00Z."
    )
    assert english["Content-Language"] == "en"
    spanish = client.get(V2 + "/services/poor-lighting.json", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish["Content-Language"] == "es"
    assert spanish.json()["attributes"][0]["description"] == "¿A qué hora?"
    by_parameter = client.get(
        V2 + "/services/poor-lighting.json", {"lang": "es"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert by_parameter.json() == spanish.json()


# --- Sending service requests -----------------------------------------------------------------


def _valid(**overrides):
    data = {
        "service_code": "poor-lighting",
        "lat": str(EL_CHICO_POINT[1]),
        "long": str(EL_CHICO_POINT[0]),
        "description": "Poste apagado junto al parque.",
        "attribute[time_band]": "night",
        "attribute[affected][]": ["women", "children"],
        "email": SECRET_EMAIL,
        "phone": SECRET_PHONE,
        "first_name": SECRET_NAME,
        "account_id": "acct-77",
        "device_id": "dev-1",
        "media_url": "http://127.0.0.1:9/photo.jpg",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_posted_request_waits_for_moderation_with_its_contact(client, consultation):
    response = client.post(V2 + "/requests.json", _valid(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    [body] = response.json()
    validate_swagger(body, "RequestResponse")
    assert set(body) == {"service_request_id", "token", "service_notice", "account_id"}
    assert body["account_id"] == "acct-77"
    assert "review" in body["service_notice"]
    concern = Concern.objects.get(public_id=body["service_request_id"])
    assert concern.status == Concern.Status.PENDING
    assert concern.source == Concern.Source.OPEN311
    assert concern.time_band == "night" and concern.affected == ["children", "women"]
    assert concern.language == "en"
    assert str(concern.idempotency_key) == body["token"]
    assert concern.contact.email == SECRET_EMAIL and concern.contact.device_id == "dev-1"
    assert not concern.photo  # media_url is never fetched
    # Not public until approved.
    assert get(client, f"/requests/{concern.public_id}.json").status_code == 404
    token = get(client, f"/tokens/{body['token']}.json").json()
    assert token == [{"token": body["token"], "service_request_id": concern.public_id}]
    approve(concern)
    [public] = get(client, f"/requests/{concern.public_id}.json").json()
    concern.refresh_from_db()
    assert (public["long"], public["lat"]) == (
        round(concern.public_point.x, 5),
        round(concern.public_point.y, 5),
    )
    text = json.dumps(get(client, "/requests.json").json())
    for secret in (SECRET_EMAIL, SECRET_PHONE, SECRET_NAME, "Poste apagado", "acct-77"):
        assert secret not in text


def test_a_request_without_contact_or_point_stores_no_contact(client, consultation):
    data = _valid(
        lat=None,
        long=None,
        email=None,
        phone=None,
        first_name=None,
        account_id=None,
        device_id=None,
        address_string="Puente peatonal de la 85",
    )
    response = client.post(V2 + "/requests.xml", data)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    concern = Concern.objects.get(public_id=root.find("request/service_request_id").text)
    assert concern.point is None and concern.place_description == "Puente peatonal de la 85"
    assert not ConcernContact.objects.filter(concern=concern).exists()


def test_a_duplicate_post_returns_the_first_request(client, consultation):
    """The same fields from the same sender (device_id, e-mail…) the same day are a retry."""
    first = client.post(V2 + "/requests.json", _valid()).json()
    second = client.post(V2 + "/requests.json", _valid())
    assert second.status_code == 200
    assert second.json() == first
    assert Concern.objects.count() == 1
    assert ConcernContact.objects.count() == 1


def test_an_idempotency_key_header_makes_a_retry(client, consultation):
    anonymous = {k: v for k, v in _valid().items() if k not in CONTACT_FIELDS}
    first = client.post(V2 + "/requests.json", anonymous, headers={"Idempotency-Key": "r-1"})
    again = client.post(V2 + "/requests.json", anonymous, headers={"Idempotency-Key": "r-1"})
    assert again.json() == first.json()
    other = client.post(V2 + "/requests.json", anonymous, headers={"Idempotency-Key": "r-2"})
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert Concern.objects.count() == 2


def test_identical_anonymous_reports_are_two_concerns(client, consultation):
    """Two residents may send the same category at the same corner with no words and no contact:
    both reports are kept."""
    anonymous = {k: v for k, v in _valid().items() if k not in CONTACT_FIELDS}
    first = client.post(V2 + "/requests.json", anonymous).json()
    second = client.post(V2 + "/requests.json", anonymous).json()
    assert first[0]["service_request_id"] != second[0]["service_request_id"]
    assert Concern.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"service_code": "no-such-thing"}, 404),
        ({"service_code": "domestic-violence"}, 404),  # sensitive: not offered here
        ({"service_code": None}, 400),
        ({"lat": str(OUTSIDE_POINT[1]), "long": str(OUTSIDE_POINT[0])}, 400),
        ({"lat": "north", "long": "-74.05"}, 400),
        ({"lat": "95", "long": "-74.05"}, 400),
        ({"lat": "nan", "long": "-74.05"}, 400),
        ({"lat": "4.67", "long": None}, 400),
        ({"lat": None, "long": None}, 400),
        ({"lat": None, "long": None, "address_id": "545483"}, 400),
        ({"attribute[time_band]": "midnight"}, 400),
        ({"attribute[colour]": "red"}, 400),
        ({"email": "not-an-address"}, 400),
        ({"description": "x" * 2001}, 400),
        ({"jurisdiction_id": "gotham.gov"}, 404),
        ({"description": "nul \x00 byte"}, 400),
    ],
)
def test_bad_posts_are_refused_and_store_nothing(client, consultation, overrides, status):
    response = client.post(V2 + "/requests.json", _valid(**overrides))
    assert response.status_code == status
    [error] = response.json()
    assert error["code"] == status and error["description"]
    assert Concern.objects.count() == 0
    assert ConcernContact.objects.count() == 0


def test_a_point_outside_is_refused_in_spanish(client, consultation):
    response = client.post(
        V2 + "/requests.json",
        _valid(lat=str(OUTSIDE_POINT[1]), long=str(OUTSIDE_POINT[0])),
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.json()[0]["description"] == (
        "El lugar que marcaste está fuera de la zona de esta consulta."
    )


def test_api_keys_guard_posts_when_configured(client, consultation, settings):
    settings.CONVIVE_OPEN311_API_KEYS = ["k-123"]
    missing = client.post(V2 + "/requests.json", _valid(), HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 403
    assert missing.json() == [
        {"code": 403, "description": "An api_key is required to send service requests."}
    ]
    wrong = client.post(V2 + "/requests.xml", _valid(api_key="k-999"))
    assert wrong.status_code == 403
    assert ET.fromstring(wrong.content).find("error/code").text == "403"
    assert Concern.objects.count() == 0
    assert client.post(V2 + "/requests.json", _valid(api_key="k-123")).status_code == 200
    # Reading needs no key.
    assert get(client, "/services.json").status_code == 200


def test_posts_are_rate_limited_per_client(client, consultation, settings):
    settings.CONVIVE_RATE_LIMIT_ENABLED = True
    settings.CONVIVE_OPEN311_RATE_LIMIT = "2/3600"
    for number in range(2):
        assert (
            client.post(V2 + "/requests.json", _valid(description=str(number))).status_code == 200
        )
    refused = client.post(V2 + "/requests.json", _valid(description="3"))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()[0]["code"] == 429
    assert Concern.objects.count() == 2


def test_jurisdiction_is_required_when_several_consultations_listen(
    client, consultation, home, barrios, categories
):
    from diagnosis.models import ConsultationPage

    other = ConsultationPage(title="Otra", slug="otra", phase=ConsultationPage.Phase.LISTENING)
    home.add_child(instance=other)
    other.areas.set(barrios)
    other.categories.set(categories.values())
    other.save_revision().publish()
    response = client.post(V2 + "/requests.json", _valid(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()[0]["description"] == "Send jurisdiction_id: one of chapinero, otra."
    chosen = client.post(V2 + "/requests.json", _valid(jurisdiction_id="otra"))
    assert chosen.status_code == 200
    assert Concern.objects.get().consultation_key == other.translation_key


def test_a_closed_consultation_accepts_no_requests(client, consultation):
    consultation.phase = consultation.Phase.RESULTS
    consultation.save_revision().publish()
    response = client.post(
        V2 + "/requests.json", _valid(jurisdiction_id="chapinero"), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    assert response.json()[0]["description"] == (
        "Esta consulta no está recibiendo reportes en este momento."
    )
    assert Concern.objects.count() == 0


# --- Discovery (the SeeClickFix validator's rules) --------------------------------------------


def test_discovery_follows_the_validator_rules(client, consultation):
    as_json = client.get("/open311/discovery.json")
    as_xml = client.get("/open311/discovery.xml")
    assert as_json["Content-Type"].startswith("application/json")
    assert as_xml["Content-Type"].startswith("text/xml")
    body = as_json.json()
    root = ET.fromstring(as_xml.content)
    assert body["contact"] and body["contact"] == root.find("contact").text
    assert body["key_service"] and body["key_service"] == root.find("key_service").text
    assert len(body["endpoints"]) >= 1
    assert len(root.findall("endpoints/endpoint")) == len(body["endpoints"])
    for endpoint in body["endpoints"]:
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2"
        assert endpoint["type"] in ("production", "test")
        changeset = datetime.datetime.fromisoformat(endpoint["changeset"])
        assert changeset <= timezone.now()
        assert "text/xml" in endpoint["formats"]
    assert [f.text for f in root.iter("format")] == body["endpoints"][0]["formats"]
    # "there should be at least one service"; "all services should have a service code".
    services = client.get(body["endpoints"][0]["url"] + "/services.json").json()
    assert services and all(service["service_code"] for service in services)
