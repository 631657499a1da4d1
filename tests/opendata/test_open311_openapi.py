"""The Open311 part of /api/schema/ (`diagnosis.open311_openapi`) describes every Open311 path.

schemathesis checks all of them against the views in tests/opendata/test_openapi.py.
"""


def test_every_open311_path_is_described(client, consultation):
    paths = client.get("/api/schema/").json()["paths"]
    for fmt in ("json", "xml"):
        for path in (
            "/open311/discovery",
            "/open311/v2/services",
            "/open311/v2/services/{service_code}",
            "/open311/v2/requests",
            "/open311/v2/requests/{service_request_id}",
            "/open311/v2/request/{service_request_id}",
            "/open311/v2/tokens/{token}",
        ):
            assert f"{path}.{fmt}" in paths
        assert "post" in paths[f"/open311/v2/requests.{fmt}"]
