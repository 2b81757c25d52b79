import pytest

from reviewer.store import FileStore


def test_file_store_writes_by_hash_and_refuses_other_names(tmp_path):
    files = FileStore(tmp_path / "uploads")
    digest = "a" * 64
    files.put(digest, b"%PDF-1.7 data")
    assert files.get(digest) == b"%PDF-1.7 data"
    files.delete(digest)
    assert not files.path(digest).exists()
    with pytest.raises(ValueError):
        files.path("../../etc/passwd")
