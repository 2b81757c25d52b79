import pytest

from tests.store.support import POSTGRES_URL, reset_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Every store test runs on SQLite, and on PostgreSQL too when REVIEWER_TEST_DATABASE_URL names one
    (.ci/run starts one where the machine has PostgreSQL). The database starts empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    if not POSTGRES_URL:
        pytest.skip("no REVIEWER_TEST_DATABASE_URL: Postgres not available here")
    reset_postgres(POSTGRES_URL)
    return POSTGRES_URL
