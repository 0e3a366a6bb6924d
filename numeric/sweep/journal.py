"""``OUT/runs.jsonl``: one JSON line per finished run, written so that a crash loses nothing done.

Every line is written whole, then flushed and fsynced before the next run is recorded, so a
sweep killed at any instant (``kill -9``, a power cut) leaves every finished run on disk; at
worst the line being written is torn. :meth:`Journal.open` cuts a torn last line off (that run
is simply run again), and a lock file stops two sweeps writing into one folder at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any

RUNS_FILE = "runs.jsonl"
LOCK_FILE = ".sweep.lock"


class JournalError(RuntimeError):
    """The journal cannot be used (locked by another sweep, or unreadable)."""


class Journal:
    """Append-only, fsynced run records in ``folder/runs.jsonl``.

    Use as a context manager: ``with Journal(out) as journal: journal.append(record)``. Entering
    takes the folder's lock and repairs a torn last line.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / RUNS_FILE
        self._lock_fd: int | None = None
        self._file = None
        self.repaired_bytes = 0

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(
                f"another sweep is writing into {self.folder} (it holds {LOCK_FILE}); "
                "wait for it or choose another --out"
            ) from None
        self._lock_fd = fd
        self.repaired_bytes = repair_torn_tail(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line; on disk (fsync) when this returns."""
        if self._file is None:
            raise JournalError("journal is not open")
        line = json.dumps(record, separators=(",", ":"), allow_nan=False, default=_jsonable)
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock_fd is not None:
            # Remove the lock file while still holding the lock (nothing left behind in DIR).
            with contextlib.suppress(OSError):
                (self.folder / LOCK_FILE).unlink()
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def _jsonable(value: Any) -> Any:
    try:
        return float(value)  # numpy scalars
    except (TypeError, ValueError):
        return str(value)


def repair_torn_tail(path: Path) -> int:
    """Cut an incomplete last line (a write cut short by a kill) off ``path``; bytes removed."""
    if not path.exists():
        return 0
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # Find the last newline; everything after it is the torn record.
        block = 1 << 16
        end = size
        while end > 0:
            start = max(0, end - block)
            f.seek(start)
            chunk = f.read(end - start)
            at = chunk.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                break
            end = start
        else:
            keep = 0
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
        return size - keep


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every complete record in ``path`` (a torn last line is ignored), in file order.

    A malformed line in the middle is not a torn write: it is reported, not skipped silently.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    lines = path.read_text(encoding="utf-8").split("\n")
    complete, tail = lines[:-1], lines[-1]  # after the last "\n": "" or a torn line
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise JournalError(f"{path}, line {number}: not a JSON record ({error})") from None
        if not isinstance(record, dict) or "key" not in record:
            raise JournalError(f"{path}, line {number}: not a run record (no 'key')")
        records.append(record)
    del tail
    return records


def latest_by_key(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last record of every run key (a run retried after an error counts once)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest[record["key"]] = record
    return latest


__all__ = [
    "LOCK_FILE",
    "RUNS_FILE",
    "Journal",
    "JournalError",
    "latest_by_key",
    "read_records",
    "repair_torn_tail",
]
