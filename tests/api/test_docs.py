"""/docs and /openapi.json: behind the key by default, Swagger UI served from the package, and a
schema that says how to authenticate and what each route really answers (issues 12, 13)."""

import re
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, Settings, StorageSettings

KEY = "docs-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
UPLOADS = {("post", "/v1/reviews"), ("post", "/v1/batches"), ("post", "/v1/reviews/{review_id}/rounds")}
HEALTH = {"/healthz", "/readyz"}


def make_client(tmp_path, **api) -> TestClient:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path / "data"), api=ApiSettings(keys=[KEY], **api))
    return TestClient(create_app(settings, run_workers=False))


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path) as c:
        yield c


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_docs_need_the_key_by_default_and_not_when_made_public(tmp_path, client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers=AUTH).status_code == 200
    assert client.get(path, headers={"X-API-Key": KEY}).status_code == 200
    with make_client(tmp_path, public_docs=True) as public:
        assert public.get(path).status_code == 200


def test_the_docs_page_loads_only_local_assets_and_they_are_served(client):
    page = client.get("/docs", headers=AUTH).text
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    assert len(urls) >= 3  # script, stylesheet, icon
    for url in urls:
        parsed = urlparse(url)
        assert not parsed.scheme and not parsed.netloc and url.startswith("/"), url
        asset = client.get(url)  # assets are not secret: a browser fetches them without the key
        assert asset.status_code == 200 and len(asset.content) > 100, url
    assert "cdn" not in page.lower() and "http://" not in page and "https://" not in page
    assert '"openapi": "3.1' in page  # the schema rides in the page: the browser's own fetch has no key


def test_openapi_declares_the_bearer_key_so_swagger_can_authorize(client):
    schema = client.get("/openapi.json", headers=AUTH).json()
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["HTTPBearer"].items()
    assert {"type": "apiKey", "in": "header", "name": "X-API-Key"}.items() <= schemes["APIKeyHeader"].items()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            security = operation.get("security", [])
            if path in HEALTH:
                assert not security and "401" not in operation["responses"], (method, path)
            else:
                assert {"HTTPBearer": []} in security and {"APIKeyHeader": []} in security, (method, path)
                assert "401" in operation["responses"], (method, path)


def test_only_upload_routes_document_413_and_415(client):
    schema = client.get("/openapi.json", headers=AUTH).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            if (method, path) in UPLOADS:
                assert {"408", "413"} <= statuses, (method, path)
            else:
                assert not statuses & {"408", "413", "415"}, (method, path)
    assert "415" in schema["paths"]["/v1/reviews"]["post"]["responses"]
    assert "404" in schema["paths"]["/v1/reviews/{review_id}"]["delete"]["responses"]
