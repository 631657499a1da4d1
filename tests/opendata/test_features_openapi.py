"""The OpenAPI description of OGC API – Features (`cms.features_openapi`) lists every path and
parameter; schemathesis checks them against the views in tests/opendata/test_openapi.py."""


def test_every_features_path_is_described(client, open_site):
    paths = client.get("/api/schema/").json()["paths"]
    for collection in ("areas", "concerns", "walk-stops", "problems", "commitments"):
        for suffix in ("", "/items", "/items/{featureId}"):
            assert f"/api/features/collections/{collection}{suffix}" in paths
    assert {"/api/features/", "/api/features/conformance", "/api/features/collections"} <= set(
        paths
    )
    items = paths["/api/features/collections/concerns/items"]["get"]
    assert {p["name"] for p in items["parameters"]} == {"bbox", "limit", "offset", "datetime", "f"}
