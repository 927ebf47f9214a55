"""One writer per index at a time, across processes: a lock file in the index's side folder.

Why: an index is four stores (two Chroma collections, the BM25 SQLite file, the manifest) written
in steps, and embedded Chroma is not safe for two processes writing at once. Two ``khabar
ingest`` runs over one data dir both exit 0, yet the second one, seeing the first's contents
half-written, deletes and re-adds them while the first is still adding: Chroma keeps their rows
but loses some of their vectors ("Error getting embedding" on every later read), and since the
manifest says the contents are complete, no later run repairs them. So every writer (the CLI, a
web upload, eval's index build: all of them an ``Ingestor``) holds this lock for its whole run.

The lock is the operating system's (``fcntl``/``LockFileEx`` through the ``filelock`` package),
not the file's existence: it goes with the process that holds it, even when that process is
killed, so the file left behind is never a stale lock. It serialises the writers that share a
data dir. Readers do not take it: a question never waits for an ingest.

With a ``chroma run`` server (``http`` mode) the index itself is shared by every machine that
talks to the server, but this lock is still a file in one machine's data dir: it serialises the
writers of that machine only. So one host writes (ingests, web uploads, eval builds) and any
number of hosts read; writers on several hosts would need a lock they all see, which Khabar does
not have yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = "write.lock"


class IndexBusy(TimeoutError):
    """Another process kept the index's write lock for longer than this one would wait."""

    def __init__(self, index_name: str, lock_path: Path, timeout: float):
        self.index_name, self.lock_path, self.timeout = index_name, Path(lock_path), timeout
        super().__init__(
            f"Index {index_name!r} is still being written by another process (an ingest, a web upload "
            f"or an eval build): its lock {lock_path} was not free within {timeout:g}s. Let that "
            "process finish, then run this again, or allow a longer wait (the write-lock timeout). "
            f"The lock is released when its holder exits; `lsof {lock_path}` shows which process holds it."
        )


def waiting_message(index_name: str, lock_path: Path, timeout: float) -> str:
    return (
        f"Waiting for another ingest of index {index_name!r} to finish (lock {lock_path}, "
        f"held by another process); giving up after {timeout:g}s."
    )


@contextmanager
def write_lock(
    lock_path: Path, index_name: str, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``lock_path`` for the block. When another process holds it, say so once through
    ``on_wait`` and wait up to ``timeout`` seconds; then raise :class:`IndexBusy`."""
    lock = FileLock(lock_path)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        if on_wait is not None:
            on_wait(waiting_message(index_name, lock_path, timeout))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise IndexBusy(index_name, lock_path, timeout) from None
    try:
        yield
    finally:
        lock.release()
