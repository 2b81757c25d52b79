"""A progress line on stderr for long runs: redrawn in place on a terminal, a line every 10% elsewhere."""

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.done = 0
        self.failed = 0
        self.extra = ""
        self.started = time.monotonic()
        self._last_decile = -1
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def note(self, extra: str) -> None:
        """Change the trailing detail (e.g. a batch's state) without counting a document."""
        self.extra = extra
        self._draw()

    def advance(self, *, failed: bool = False, extra: str = "") -> None:
        self.done += 1
        self.failed += failed
        self.extra = extra
        self._draw()

    def _draw(self) -> None:
        if not self.enabled or not self.total:
            return
        fraction = self.done / self.total
        elapsed = time.monotonic() - self.started
        width = 24
        bar = "#" * int(fraction * width) + "-" * (width - int(fraction * width))
        text = f"{self.label} [{bar}] {self.done}/{self.total}"
        if self.failed:
            text += f", {self.failed} failed"
        text += f", {elapsed:.0f}s" + (f", {self.extra}" if self.extra else "")
        if self._tty:
            self.stream.write("\r" + text + ("\n" if self.done >= self.total else ""))
            self.stream.flush()
        elif (decile := int(fraction * 10)) != self._last_decile or self.done >= self.total:
            self._last_decile = decile
            self.stream.write(text + "\n")
            self.stream.flush()
