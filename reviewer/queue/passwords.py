"""Passwords of encrypted PDFs, held in this process's memory only: never in the store, a job record or
a log line. Kept by file hash (the password opens the file, whatever job reviews it) and counted, so
the password stays while any job of this process may still need it. A job that another process or a
restart runs has no password there and fails `encrypted`: upload it again with the password."""

from collections import Counter


class Passwords:
    def __init__(self) -> None:
        self._held: dict[str, str] = {}
        self._holders: Counter[str] = Counter()

    def hold(self, sha256: str, password: str) -> None:
        self._held[sha256] = password
        self._holders[sha256] += 1

    def get(self, sha256: str) -> str | None:
        return self._held.get(sha256)

    def release(self, sha256: str) -> None:
        if self._holders[sha256] > 1:
            self._holders[sha256] -= 1
            return
        self._holders.pop(sha256, None)
        self._held.pop(sha256, None)

    def __repr__(self) -> str:
        return f"Passwords({len(self._held)} held)"
