"""What has been ingested: files, article names and stored contents, in SQLite.

llama-index's docstore strategies track one vector store by document id; Khabar writes two
collections (chunks and sentences) and stores the same text under two names once, so it keeps
this small manifest of its own. Each stored content is marked complete only after all of its
vectors are written: an interrupted run leaves it incomplete and the next run redoes it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER);
CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY, content_hash TEXT NOT NULL, path TEXT);
CREATE INDEX IF NOT EXISTS names_by_hash ON names(content_hash);
CREATE INDEX IF NOT EXISTS names_by_path ON names(path);
CREATE TABLE IF NOT EXISTS contents (
    content_hash TEXT PRIMARY KEY, article_id TEXT, title TEXT, n_chunks INTEGER, complete INTEGER
);
"""


@dataclass
class Content:
    content_hash: str
    article_id: str
    title: str
    n_chunks: int
    complete: bool


class Manifest:
    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.executescript(SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    # files -------------------------------------------------------------------------------
    def file_unchanged(self, path: str, size: int, mtime_ns: int) -> bool:
        row = self._db.execute("SELECT size, mtime_ns FROM files WHERE path=?", (path,)).fetchone()
        if row != (size, mtime_ns):
            return False
        pending = self._db.execute(
            "SELECT COUNT(*) FROM names n LEFT JOIN contents c ON c.content_hash = n.content_hash "
            "WHERE n.path=? AND (c.complete IS NULL OR c.complete = 0)",
            (path,),
        ).fetchone()[0]
        return pending == 0

    def record_file(self, path: str, size: int, mtime_ns: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", (path, size, mtime_ns))
        self._db.commit()

    def forget_file(self, path: str) -> None:
        self._db.execute("DELETE FROM files WHERE path=?", (path,))
        self._db.commit()

    def files(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT path FROM files ORDER BY path")]

    # names -------------------------------------------------------------------------------
    def names_for_path(self, path: str) -> dict[str, str]:
        rows = self._db.execute("SELECT name, content_hash FROM names WHERE path=?", (path,))
        return dict(rows.fetchall())

    def names_for_content(self, content_hash: str) -> list[str]:
        rows = self._db.execute("SELECT name FROM names WHERE content_hash=? ORDER BY name", (content_hash,))
        return [r[0] for r in rows]

    def content_of(self, name: str) -> str | None:
        row = self._db.execute("SELECT content_hash FROM names WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def set_name(self, name: str, content_hash: str, path: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO names VALUES (?, ?, ?)", (name, content_hash, path))
        self._db.commit()

    def drop_name(self, name: str) -> None:
        self._db.execute("DELETE FROM names WHERE name=?", (name,))
        self._db.commit()

    def count_names(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM names").fetchone()[0]

    # contents ----------------------------------------------------------------------------
    def content(self, content_hash: str) -> Content | None:
        row = self._db.execute(
            "SELECT content_hash, article_id, title, n_chunks, complete FROM contents WHERE content_hash=?",
            (content_hash,),
        ).fetchone()
        return Content(*row[:4], bool(row[4])) if row else None

    def begin_content(self, content_hash: str, article_id: str, title: str, n_chunks: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO contents VALUES (?, ?, ?, ?, 0)",
            (content_hash, article_id, title, n_chunks),
        )
        self._db.commit()

    def complete_content(self, content_hash: str) -> None:
        self._db.execute("UPDATE contents SET complete=1 WHERE content_hash=?", (content_hash,))
        self._db.commit()

    def drop_content(self, content_hash: str) -> None:
        self._db.execute("DELETE FROM contents WHERE content_hash=?", (content_hash,))
        self._db.commit()

    def stats(self) -> dict[str, int]:
        q = self._db.execute
        return {
            "files": q("SELECT COUNT(*) FROM files").fetchone()[0],
            "articles": q("SELECT COUNT(*) FROM names").fetchone()[0],
            "stored": q("SELECT COUNT(*) FROM contents WHERE complete=1").fetchone()[0],
            "chunks": q("SELECT COALESCE(SUM(n_chunks), 0) FROM contents WHERE complete=1").fetchone()[0],
        }
