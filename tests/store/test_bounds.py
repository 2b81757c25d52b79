"""Every string that reaches a bounded column is fitted to it in the store: on PostgreSQL an over-long value
would be refused (StringDataRightTruncation) and a NUL character too; SQLite would keep them whole."""

from reviewer.store import BatchItem, fit_text
from tests.store.support import new_job, store_at


def test_long_names_from_a_model_or_an_upload_are_cut_to_their_columns(database_url):
    store = store_at(database_url)
    job = store.create(
        new_job(
            file_name="f" * 300 + ".pdf",
            vendor_name="V" * 300,
            rubric_name="r" * 200,
            rubric_id="i" * 100,
            rubric_version="9" * 40,
            backend="b" * 40,
            model="m" * 100,
        )
    )
    stored = store.get(job.id)
    assert stored == job
    assert len(stored.file_name) == 255 and stored.file_name.startswith("fff") and stored.file_name.endswith("…")
    assert (len(stored.vendor_name), len(stored.rubric_name), len(stored.model)) == (255, 128, 64)
    assert (len(stored.rubric_id), len(stored.rubric_version), len(stored.backend)) == (64, 32, 32)


def test_a_result_with_a_300_character_vendor_and_a_long_error_is_recorded(database_url):
    store = store_at(database_url)
    done, failed = store.create(new_job(1)), store.create(new_job(2))
    worker = "w" * 100
    assert store.claim_job(done.id, worker, 60) is not None and store.claim_job(failed.id, worker, 60) is not None
    assert store.complete(done.id, worker, "{}", "Acme " * 60)
    assert store.fail(failed.id, worker, "code_" * 20, "upstream said: \x00" + "x" * 10_000)
    assert len(store.get(done.id).vendor_name) == 255 and store.get(done.id).vendor_name.startswith("Acme Acme")
    failed = store.get(failed.id)
    assert len(failed.error_code) == 64 and "\x00" not in failed.error_message
    assert failed.error_message.endswith("x" * 100)  # an unbounded column keeps its text whole


def test_batch_and_notification_strings_are_fitted(database_url):
    store = store_at(database_url)
    batch = store.create_batch("r" * 300, False, [BatchItem(file_name="a.pdf")])
    assert store.get_batch(batch.id).rubric_name == batch.rubric_name and len(batch.rubric_name) == 128
    job = store.create(new_job())
    store.add_notification(job.id, "c" * 40, {"channel": "C1"})
    store.delete(job.id)
    assert [n.channel for n, _ in store.claim_notifications("c" * 31 + "…", "w", 60)] == ["c" * 31 + "…"]


def test_fit_text_leaves_fitting_text_alone_and_replaces_what_cannot_be_stored():
    assert fit_text("Acme Ltd", 255) == "Acme Ltd"
    assert fit_text("abcdef", 4) == "abc…"
    assert fit_text("a\x00b\ud800c", None) == "a\ufffdb?c"
