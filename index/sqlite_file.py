"""One SQLite file opened with its schema: what the side stores kept in a single file share.

The manifest (:mod:`index.manifest`) and the feed store (:mod:`index.feeds`) each keep their
state in one SQLite file in the index's side folder, and open and close it the same way: connect,
create what is missing (every schema statement is ``IF NOT EXISTS``, so an existing file is kept
and an older one gains what it lacks), commit, and close when done. This class is that one way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar


class SqliteFile:
    """A SQLite file at ``path`` holding ``schema`` (the subclass's tables), open until :meth:`close`."""

    schema: ClassVar[str]  # the subclass's CREATE ... IF NOT EXISTS statements

    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.executescript(self.schema)
        self._db.commit()

    def close(self) -> None:
        self._db.close()
