"""Helpers shared by the store tests."""

import os

from reviewer.store import JobStore, NewJob, make_engine, metadata

POSTGRES_URL = os.environ.get("REVIEWER_TEST_DATABASE_URL")


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    metadata.drop_all(engine)  # the store's tables and alembic_version: the database is as new
    engine.dispose()


def new_job(n: int = 0, **changes: object) -> NewJob:
    fields = {
        "file_name": f"p{n}.pdf",
        "vendor_name": None,
        "sha256": f"{n:064x}",
        "size_bytes": 10,
        "rubric_name": "default",
        "rubric_id": "r",
        "rubric_version": "1",
        "backend": "offline",
        "model": "-",
    }
    return NewJob(**{**fields, **changes})


def store_at(url: str) -> JobStore:
    return JobStore(make_engine(url))
