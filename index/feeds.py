"""The feeds an index follows, and what was learnt of each feed entry, kept with the index.

Why with the index: a second app process sharing the store (``khabar serve`` while a cron job
runs ``khabar feeds refresh``) must see the same feeds and must not fetch and store again what
the other already did. So, like the manifest, the state is a SQLite file in the index's side
folder (embedded Chroma) or a collection on the shared Chroma server (``index.side.ChromaFeedStore``).

A feed's state is what a polite conditional GET needs (ETag, Last-Modified) and what ``feeds
list`` shows; an entry's state (keyed by feed and the entry's guid, else its link) says which
article it became (canonical URL), with which text (content hash), whether that text came from
the page or only from the feed's summary, and the entry's own ``updated`` stamp, so that an
unchanged entry costs no request and an updated one is fetched again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from index.sqlite_file import SqliteFile

FEEDS_FILE = "feeds.sqlite"  # the SQLite feed store's file in the index's side folder

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, name TEXT NOT NULL, added TEXT NOT NULL, etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '', last_checked TEXT NOT NULL DEFAULT '',
    last_status TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS entries (
    feed TEXT NOT NULL, entry TEXT NOT NULL, article TEXT NOT NULL, content_hash TEXT NOT NULL,
    fetched_from TEXT NOT NULL, updated TEXT NOT NULL DEFAULT '', PRIMARY KEY (feed, entry)
);
"""


@dataclass
class Feed:
    """A followed feed. ``last_status``: what its last refresh found, in words."""

    url: str
    name: str
    added: str  # ISO 8601, UTC
    etag: str = ""
    last_modified: str = ""
    last_checked: str = ""
    last_status: str = ""


@dataclass
class EntryState:
    """What one feed entry became: the article (its canonical URL) and its text (content hash).
    ``fetched_from``: "page", or "summary" when the page could not be fetched."""

    feed: str
    entry: str
    article: str
    content_hash: str
    fetched_from: str
    updated: str = ""


class FeedStore(ABC):
    """Followed feeds and their entries' state."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def add(self, feed: Feed) -> None:
        """Follow ``feed`` (again: a feed already followed is replaced, its entries kept)."""

    @abstractmethod
    def get(self, url: str) -> Feed | None: ...

    @abstractmethod
    def list(self) -> list[Feed]:
        """Every followed feed, by name."""

    @abstractmethod
    def remove(self, url: str) -> None:
        """Stop following; the entries' state goes with it (the articles stay in the index)."""

    @abstractmethod
    def update(self, feed: Feed) -> None:
        """Save a followed feed's state after a refresh (nothing when it was removed meanwhile)."""

    @abstractmethod
    def entry(self, feed: str, entry: str) -> EntryState | None: ...

    @abstractmethod
    def entries(self, feed: str) -> list[EntryState]: ...

    @abstractmethod
    def put_entry(self, state: EntryState) -> None: ...


class SqliteFeedStore(SqliteFile, FeedStore):
    """The feed store in one SQLite file."""

    schema = SCHEMA

    def add(self, feed: Feed) -> None:
        self._db.execute("INSERT OR REPLACE INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?)", _feed_row(feed))
        self._db.commit()

    def get(self, url: str) -> Feed | None:
        row = self._db.execute("SELECT * FROM feeds WHERE url=?", (url,)).fetchone()
        return Feed(*row) if row else None

    def list(self) -> list[Feed]:
        return [Feed(*row) for row in self._db.execute("SELECT * FROM feeds ORDER BY name, url")]

    def remove(self, url: str) -> None:
        self._db.execute("DELETE FROM feeds WHERE url=?", (url,))
        self._db.execute("DELETE FROM entries WHERE feed=?", (url,))
        self._db.commit()

    def update(self, feed: Feed) -> None:
        self._db.execute(
            "UPDATE feeds SET name=?, etag=?, last_modified=?, last_checked=?, last_status=? WHERE url=?",
            (feed.name, feed.etag, feed.last_modified, feed.last_checked, feed.last_status, feed.url),
        )
        self._db.commit()

    def entry(self, feed: str, entry: str) -> EntryState | None:
        row = self._db.execute("SELECT * FROM entries WHERE feed=? AND entry=?", (feed, entry)).fetchone()
        return EntryState(*row) if row else None

    def entries(self, feed: str) -> list[EntryState]:
        rows = self._db.execute("SELECT * FROM entries WHERE feed=? ORDER BY entry", (feed,))
        return [EntryState(*row) for row in rows]

    def put_entry(self, state: EntryState) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)",
            (state.feed, state.entry, state.article, state.content_hash, state.fetched_from, state.updated),
        )
        self._db.commit()


def _feed_row(feed: Feed) -> tuple[str, ...]:
    return (
        feed.url,
        feed.name,
        feed.added,
        feed.etag,
        feed.last_modified,
        feed.last_checked,
        feed.last_status,
    )
