"""What has been ingested: files, article names and stored contents.

llama-index's docstore strategies track one vector store by document id; Khabar writes two
collections (chunks and sentences) and stores the same text under two names once, so it keeps
this small manifest of its own. Each stored content is marked complete only after all of its
vectors are written: an interrupted run leaves it incomplete and the next run redoes it.

A name (article id) can be held by more than one file: the same feed entry in two saved copies
of a feed, a JSON Lines file renamed. ``holders`` records every file that holds a name, so that a
name goes only when the last file holding it does; ``names.path`` is the file its text came from.

:class:`Manifest` is what the ingestion pipeline reads and writes; :class:`SqliteManifest` keeps it
in one SQLite file in the index's side folder (embedded Chroma), ``index.side.ChromaManifest`` in a
collection on the shared Chroma server (http mode), where every app process sees it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from index.sqlite_file import SqliteFile

MANIFEST_FILE = "manifest.sqlite"  # the SQLite manifest's file in the index's side folder

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER);
CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY, content_hash TEXT NOT NULL, path TEXT);
CREATE INDEX IF NOT EXISTS names_by_hash ON names(content_hash);
CREATE INDEX IF NOT EXISTS names_by_path ON names(path);
CREATE TABLE IF NOT EXISTS contents (
    content_hash TEXT PRIMARY KEY, article_id TEXT, title TEXT, n_chunks INTEGER, complete INTEGER
);
CREATE TABLE IF NOT EXISTS holders (name TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (name, path));
CREATE INDEX IF NOT EXISTS holders_by_path ON holders(path);
-- manifests written before holders existed: each name is held by the file it came from
INSERT OR IGNORE INTO holders SELECT name, path FROM names WHERE path IS NOT NULL;
"""


@dataclass
class Content:
    content_hash: str
    article_id: str
    title: str
    n_chunks: int
    complete: bool


class Manifest(ABC):
    """Files, names (article ids), the files holding each name, and stored contents."""

    @abstractmethod
    def close(self) -> None: ...

    # files
    @abstractmethod
    def file_unchanged(self, path: str, size: int, mtime_ns: int) -> bool:
        """Recorded with this size and time, and every name it holds has a complete content."""

    @abstractmethod
    def record_file(self, path: str, size: int, mtime_ns: int) -> None: ...

    @abstractmethod
    def forget_file(self, path: str) -> None: ...

    @abstractmethod
    def files(self) -> list[str]: ...

    @abstractmethod
    def known_paths(self) -> list[str]:
        """Every file that was recorded or that holds a stored article (a file with problems is
        not recorded, so that it is read again, but its good articles are stored)."""

    # names
    @abstractmethod
    def names_for_path(self, path: str) -> dict[str, str]:
        """name -> content hash of every article the file holds."""

    @abstractmethod
    def holders(self, name: str) -> list[str]: ...

    @abstractmethod
    def names_for_content(self, content_hash: str) -> list[str]: ...

    @abstractmethod
    def path_of(self, name: str) -> str | None: ...

    @abstractmethod
    def content_of(self, name: str) -> str | None: ...

    @abstractmethod
    def set_name(self, name: str, content_hash: str, path: str) -> None:
        """The name now has this content, read from ``path`` (which holds it)."""

    @abstractmethod
    def hold(self, name: str, path: str) -> None:
        """``path`` holds the name too (with the text the name already has)."""

    @abstractmethod
    def release(self, name: str, path: str) -> list[str]:
        """``path`` no longer holds the name; the files that still do. When the name's text came
        from ``path``, it now counts as coming from one of those."""

    @abstractmethod
    def drop_name(self, name: str) -> None: ...

    @abstractmethod
    def count_names(self) -> int: ...

    # contents
    @abstractmethod
    def content(self, content_hash: str) -> Content | None: ...

    @abstractmethod
    def begin_content(self, content_hash: str, article_id: str, title: str, n_chunks: int) -> None:
        """Recorded incomplete before any of its rows is written."""

    @abstractmethod
    def contents(self) -> list[Content]: ...

    @abstractmethod
    def mark_incomplete(self, content_hash: str) -> None:
        """The stored content turned out damaged: the next run that reads a file holding it stores
        it again, as after an interrupted run."""

    @abstractmethod
    def complete_content(self, content_hash: str) -> None: ...

    @abstractmethod
    def relabel_content(self, content_hash: str, article_id: str) -> None: ...

    @abstractmethod
    def abandoned_contents(self) -> list[Content]:
        """Contents an interrupted run left incomplete that no name holds (a name is set only once
        its content is complete): whatever of them was written belongs to no article."""

    @abstractmethod
    def drop_content(self, content_hash: str) -> None: ...

    @abstractmethod
    def stats(self) -> dict[str, int]:
        """files, articles (names), stored (complete contents) and their chunks."""


class SqliteManifest(SqliteFile, Manifest):
    """The manifest in one SQLite file."""

    schema = SCHEMA

    # files -------------------------------------------------------------------------------
    def file_unchanged(self, path: str, size: int, mtime_ns: int) -> bool:
        row = self._db.execute("SELECT size, mtime_ns FROM files WHERE path=?", (path,)).fetchone()
        if row != (size, mtime_ns):
            return False
        pending = self._db.execute(
            "SELECT COUNT(*) FROM holders h JOIN names n ON n.name = h.name "
            "LEFT JOIN contents c ON c.content_hash = n.content_hash "
            "WHERE h.path=? AND (c.complete IS NULL OR c.complete = 0)",
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

    def known_paths(self) -> list[str]:
        """Every file that was recorded or that holds a stored article (a file with problems is
        not recorded, so that it is read again, but its good articles are stored)."""
        rows = self._db.execute("SELECT path FROM files UNION SELECT path FROM holders ORDER BY path")
        return [r[0] for r in rows]

    # names -------------------------------------------------------------------------------
    def names_for_path(self, path: str) -> dict[str, str]:
        """name -> content hash of every article the file holds."""
        rows = self._db.execute(
            "SELECT n.name, n.content_hash FROM holders h JOIN names n ON n.name = h.name WHERE h.path=?",
            (path,),
        )
        return dict(rows.fetchall())

    def holders(self, name: str) -> list[str]:
        rows = self._db.execute("SELECT path FROM holders WHERE name=? ORDER BY path", (name,))
        return [r[0] for r in rows]

    def names_for_content(self, content_hash: str) -> list[str]:
        rows = self._db.execute("SELECT name FROM names WHERE content_hash=? ORDER BY name", (content_hash,))
        return [r[0] for r in rows]

    def path_of(self, name: str) -> str | None:
        row = self._db.execute("SELECT path FROM names WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def content_of(self, name: str) -> str | None:
        row = self._db.execute("SELECT content_hash FROM names WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def set_name(self, name: str, content_hash: str, path: str) -> None:
        """The name now has this content, read from ``path`` (which holds it)."""
        self._db.execute("INSERT OR REPLACE INTO names VALUES (?, ?, ?)", (name, content_hash, path))
        self._db.execute("INSERT OR IGNORE INTO holders VALUES (?, ?)", (name, path))
        self._db.commit()

    def hold(self, name: str, path: str) -> None:
        """``path`` holds the name too (with the text the name already has)."""
        self._db.execute("INSERT OR IGNORE INTO holders VALUES (?, ?)", (name, path))
        self._db.commit()

    def release(self, name: str, path: str) -> list[str]:
        """``path`` no longer holds the name; the files that still do. When the name's text came
        from ``path``, it now counts as coming from one of those."""
        self._db.execute("DELETE FROM holders WHERE name=? AND path=?", (name, path))
        remaining = self.holders(name)
        if remaining:
            self._db.execute("UPDATE names SET path=? WHERE name=? AND path=?", (remaining[0], name, path))
        self._db.commit()
        return remaining

    def drop_name(self, name: str) -> None:
        self._db.execute("DELETE FROM names WHERE name=?", (name,))
        self._db.execute("DELETE FROM holders WHERE name=?", (name,))
        self._db.commit()

    def count_names(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM names").fetchone()[0]

    # contents ----------------------------------------------------------------------------
    def content(self, content_hash: str) -> Content | None:
        row = self._db.execute(
            "SELECT content_hash, article_id, title, n_chunks, complete FROM contents WHERE content_hash=?",
            (content_hash,),
        ).fetchone()
        return Content(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def begin_content(self, content_hash: str, article_id: str, title: str, n_chunks: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO contents VALUES (?, ?, ?, ?, 0)",
            (content_hash, article_id, title, n_chunks),
        )
        self._db.commit()

    def contents(self) -> list[Content]:
        rows = self._db.execute(
            "SELECT content_hash, article_id, title, n_chunks, complete FROM contents ORDER BY content_hash"
        )
        return [Content(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def mark_incomplete(self, content_hash: str) -> None:
        """The stored content turned out damaged: the next run that reads a file holding it stores
        it again, as after an interrupted run."""
        self._db.execute("UPDATE contents SET complete=0 WHERE content_hash=?", (content_hash,))
        self._db.commit()

    def complete_content(self, content_hash: str) -> None:
        self._db.execute("UPDATE contents SET complete=1 WHERE content_hash=?", (content_hash,))
        self._db.commit()

    def relabel_content(self, content_hash: str, article_id: str) -> None:
        self._db.execute("UPDATE contents SET article_id=? WHERE content_hash=?", (article_id, content_hash))
        self._db.commit()

    def abandoned_contents(self) -> list[Content]:
        """Contents an interrupted run left incomplete that no name holds (a name is set only once
        its content is complete): whatever of them was written belongs to no article."""
        rows = self._db.execute(
            "SELECT content_hash, article_id, title, n_chunks, complete FROM contents c "
            "WHERE complete = 0 AND NOT EXISTS (SELECT 1 FROM names n WHERE n.content_hash = c.content_hash) "
            "ORDER BY content_hash"
        )
        return [Content(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

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
