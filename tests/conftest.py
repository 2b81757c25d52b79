import pytest

from reviewer.config import Settings
from reviewer.documents import Document, Page
from reviewer.rubric import load_rubric


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test sees the developer's key, base URL, .env or REVIEWER_* settings (REVIEWER_TEST_* are the
    tests' own: e.g. the Postgres to run store tests on)."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("REVIEWER_") and not name.startswith("REVIEWER_TEST_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def _samples_extracted_once():
    """The labelled sample sets are read by `reviewer eval --samples` in many tests: their extraction is
    shared for the session (same bytes, same Document), everything else is read as the product reads it."""
    import reviewer.evaluation.datasets as datasets
    from tests.samples import cached_for_samples

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets, "read_pdf", cached_for_samples(datasets.read_pdf))
        yield


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def rubric():
    return load_rubric()


def make_document(*pages: str, file_name: str = "proposal.pdf") -> Document:
    return Document(
        file_name=file_name,
        sha256="0" * 64,
        page_count=len(pages),
        pages=[Page(number=i, text=t) for i, t in enumerate(pages, start=1)],
    )
