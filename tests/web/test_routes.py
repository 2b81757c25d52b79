"""The web app's routes through the TestClient: sign-in and its cookie, CSRF refusals, the review page and its
assessment form (post, redirect, errors on the page), the comparison, escaping of document text."""

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reviewer.config import ApiSettings, JobSettings, Settings, StorageSettings
from reviewer.server import create_server
from reviewer.store import BatchItem

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SAMPLE = (SAMPLES / "coral_data.pdf").read_bytes()
KEYS = {"ana": "ana-key-0123456789abcdef", "lead": "lead-key-0123456789abcd"}
EVIL = "<script>alert(1)</script> Evil Corp"


def make_settings(tmp_path, keys=True) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data"),
        api=ApiSettings(
            keys=[f"{n}:{k}" for n, k in KEYS.items()] if keys else [], lead_evaluators=["lead"] if keys else []
        ),
        jobs=JobSettings(poll_seconds=0.05),
    )


@pytest.fixture
def client(tmp_path):
    with TestClient(create_server(make_settings(tmp_path))) as c:
        yield c


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, who: str = "ana"):
    form = client.get("/web/login")
    return client.post(
        "/web/login",
        data={"key": KEYS[who], "csrf": csrf_of(form.text), "next": "/web/"},
        follow_redirects=False,
    )


def reviewed(client, vendor_name: str | None = None) -> dict:
    response = client.post(
        "/v1/reviews?wait=true",
        headers={"Authorization": f"Bearer {KEYS['ana']}"},
        files={"file": ("coral.pdf", SAMPLE, "application/pdf")},
        data={"backend": "offline", **({"vendor_name": vendor_name} if vendor_name else {})},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_pages_answer_401_with_the_sign_in_form_without_a_session(client):
    for path in ("/web/", "/web/reviews/abc", "/web/batches/abc"):
        response = client.get(path)
        assert response.status_code == 401 and 'name="key"' in response.text and 'for="key"' in response.text


def test_sign_in_sets_an_httponly_lax_session_cookie_and_a_wrong_key_is_refused_on_the_page(client):
    form = client.get("/web/login")
    wrong = client.post("/web/login", data={"key": "nope-nope-nope-nope", "csrf": csrf_of(form.text)})
    assert (
        wrong.status_code == 401
        and "not valid" in wrong.text
        and "reviewer_session" not in wrong.headers.get("set-cookie", "")
    )
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/web/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("reviewer_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags  # http: no Secure
    assert KEYS["ana"] not in cookie
    home = client.get("/web/")
    assert home.status_code == 200 and "Signed in as <strong>ana</strong>" in home.text


def test_the_session_cookie_is_secure_when_the_request_is_https(tmp_path):
    with TestClient(create_server(make_settings(tmp_path)), base_url="https://testserver") as c:
        response = sign_in(c)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("reviewer_session="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_a_forged_session_cookie_is_not_a_session(client):
    client.cookies.set("reviewer_session", "eyJldmFsdWF0b3IiOiJsZWFkIn0.forged", path="/web")
    assert client.get("/web/").status_code == 401


def test_posts_without_the_csrf_token_are_refused_with_403(client):
    job = reviewed(client)
    form = client.get("/web/login")
    assert client.post("/web/login", data={"key": KEYS["ana"]}).status_code == 403  # login CSRF too
    assert client.post("/web/login", data={"key": KEYS["ana"], "csrf": csrf_of(form.text) + "x"}).status_code == 403
    sign_in(client)
    cid = job["review"]["findings"][0]["criterion_id"]
    url = f"/web/reviews/{job['id']}/assessments"
    refused = client.post(url, data={"criterion_id": cid, "grade": "met", "reason": "ok"})
    assert refused.status_code == 403
    wrong = client.post(url, data={"criterion_id": cid, "grade": "met", "reason": "ok", "csrf": "guess"})
    assert wrong.status_code == 403
    assert client.post("/web/logout", data={}).status_code == 403
    finding = client.get(f"/v1/reviews/{job['id']}", headers={"Authorization": f"Bearer {KEYS['ana']}"}).json()
    assert finding["review"]["findings"][0]["assessments"] == []


def test_an_assessment_without_a_required_reason_is_shown_on_the_page_then_recorded_with_one(client):
    job = reviewed(client)
    sign_in(client)
    page = client.get(f"/web/reviews/{job['id']}")
    assert page.status_code == 200 and "Offline grader." in page.text
    first = job["review"]["findings"][0]
    cid, other = first["criterion_id"], "missing" if first["grade"] != "missing" else "met"
    url = f"/web/reviews/{job['id']}/assessments"
    refused = client.post(url, data={"criterion_id": cid, "grade": other, "reason": "", "csrf": csrf_of(page.text)})
    assert refused.status_code == 422 and "a reason is required" in refused.text and "Traceback" not in refused.text
    done = client.post(
        url,
        data={"criterion_id": cid, "grade": other, "reason": "page 2 says <b>no</b>", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"/web/reviews/{job['id']}?saved=")
    after = client.get(done.headers["location"])
    section = after.text[after.text.index(f'id="c-{cid}"') :]
    assert "Your assessment was recorded" in section and "from the evaluator" in section
    assert "page 2 says &lt;b&gt;no&lt;/b&gt;" in section


def test_unknown_ids_are_404_pages(client):
    sign_in(client)
    assert client.get("/web/reviews/nope").status_code == 404
    assert client.get("/web/batches/nope").status_code == 404


def test_a_vendor_name_with_a_script_tag_is_escaped_on_every_page(client):
    job = reviewed(client, vendor_name=EVIL)
    store = client.app.state.services.store
    batch = store.create_batch("default", False, [BatchItem(file_name="coral.pdf", job_id=job["id"])])
    sign_in(client)
    for path in ("/web/", f"/web/reviews/{job['id']}", f"/web/batches/{batch.id}"):
        html = client.get(path).text
        assert "<script>" not in html, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Evil Corp" in client.get(f"/web/batches/{batch.id}").text


def test_the_comparison_links_each_review_and_the_downloads(client):
    job = reviewed(client)
    store = client.app.state.services.store
    batch = store.create_batch("default", False, [BatchItem(file_name="coral.pdf", job_id=job["id"])])
    sign_in(client)
    page = client.get(f"/web/batches/{batch.id}")
    assert page.status_code == 200 and f'href="/web/reviews/{job["id"]}"' in page.text
    assert '<th scope="col" class="vendor">Vendor</th>' in page.text
    csv = client.get(f"/web/batches/{batch.id}/comparison.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    home = client.get("/web/").text
    assert f'href="/web/batches/{batch.id}"' in home and f'href="/web/reviews/{job["id"]}"' not in home


def test_a_no_auth_server_is_open_without_sign_in(tmp_path):
    app = create_server(make_settings(tmp_path, keys=False), allow_anonymous=True)
    with TestClient(app) as c:
        home = c.get("/web/")
        assert home.status_code == 200 and "Signed in as <strong>local</strong>" in home.text
        assert c.get("/", follow_redirects=False).headers["location"] == "/web/"
