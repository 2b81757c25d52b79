"""Query parameters past what the database takes, and request paths carrying control characters."""

import json

import pytest
from fastapi.testclient import TestClient

from reviewer.api.app import create_app
from reviewer.config import ApiSettings, Settings, StorageSettings
from reviewer.logs import escape_controls

KEY = "query-test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def make_client(tmp_path, **api) -> TestClient:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path / "data"), api=ApiSettings(keys=[KEY], **api))
    return TestClient(create_app(settings, run_workers=False))


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "offset=" + "9" * 40, "limit=9223372036854775808"])
def test_offset_and_limit_past_a_bigint_answer_422_not_500(tmp_path, query):
    with make_client(tmp_path) as client:
        answer = client.get(f"/v1/reviews?{query}", headers=AUTH)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"


def test_the_largest_offset_the_database_takes_still_answers(tmp_path):
    with make_client(tmp_path) as client:
        answer = client.get("/v1/reviews?offset=9223372036854775807", headers=AUTH)
    assert answer.status_code == 200 and answer.json()["items"] == []


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_control_characters_in_a_request_path_never_reach_the_log(tmp_path, capsys, log_format):
    with make_client(tmp_path, log_format=log_format) as client:
        capsys.readouterr()
        client.get("/v1/reviews/abc%00def%0d%0aINFO%20forged%1b[31m", headers=AUTH)
    logged = capsys.readouterr().err
    access = [line for line in logged.splitlines() if "/v1/reviews/abc" in line]
    assert len(access) == 1, logged  # one line: no forged second line
    assert "\x00" not in logged and "\x1b" not in logged and "\r" not in logged
    line = json.loads(access[0])["message"] if log_format == "json" else access[0]
    assert "abc\\x00def\\r\\nINFO forged\\x1b[31m" in line


def test_escaping_keeps_printable_text_and_shows_every_control_character():
    assert escape_controls("Überblick 日本 proposal.pdf") == "Überblick 日本 proposal.pdf"
    assert escape_controls("a\x00b\tc\u202ed\u2028") == "a\\x00b\\tc\\u202ed\\u2028"
