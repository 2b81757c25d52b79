"""Writing results without ever leaving a half-written file behind, and refusing, before any work is
done, a destination that cannot be written."""

import os
import stat
import sys
import tempfile
from pathlib import Path

from reviewer.errors import BadInputError, ReviewerError


def check_writable(path: Path, *, folder: bool = False) -> None:
    """Raise BadInputError now if `path` (a file, or a folder with folder=True) cannot be written, so a
    review is never run only to be lost at the end. The folder that holds it must exist (a typo must not
    become a tree of new folders); an output folder itself is created."""
    directory = path if folder else path.parent
    if not folder and path.is_dir():
        raise BadInputError(f"{path}: is a folder; give a file name", code="unwritable_output")
    parent = directory.parent if folder else directory
    if not parent.exists():
        raise BadInputError(f"{path}: cannot write here (no folder {parent})", code="unwritable_output")
    try:
        directory.mkdir(exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".reviewer-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write here ({exc.strerror or exc})", code="unwritable_output") from None


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (os.umask can only be read by
    setting it, which would race with other threads creating files)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def replace_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` so a reader sees the old file or the whole new one, never half of it: a
    temporary file beside it, flushed to disk, then renamed over it. The one atomic writer; raises
    OSError, which callers word for their surface. Without `mode` the file stays private (0600)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _holds_already(path: Path, data: bytes, mode: int) -> bool:
    """The file is there with these bytes and this mode (a rerun writing the same report)."""
    try:
        st = path.stat(follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data) or stat.S_IMODE(st.st_mode) != mode:
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def write_bytes_atomically(path: Path, data: bytes, *, private: bool = False) -> None:
    """A command's output file, written atomically and readable as the umask allows (reports are meant
    to be shared; private=True keeps it 0600); a failure is one line naming the file. A file that holds
    these bytes already is left as it is (a rerun does not rewrite, and flush to disk, every report)."""
    mode = 0o600 if private else 0o666 & ~current_umask()
    try:
        if _holds_already(path, data, mode):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, data, mode=mode)
    except OSError as exc:
        raise ReviewerError(f"{path}: cannot write ({exc.strerror or exc})", code="write_failed") from None


def write_atomically(path: Path, text: str, *, private: bool = False) -> None:
    write_bytes_atomically(path, text.encode("utf-8"), private=private)


def emit(text: str, destination: Path | None) -> None:
    """A command's output: to `destination` (atomically, with a line on stderr saying so) or stdout."""
    text = text if text.endswith("\n") else text + "\n"
    if destination is None:
        sys.stdout.write(text)
        return
    write_atomically(destination, text)
    print(f"reviewer: wrote {destination}", file=sys.stderr)
