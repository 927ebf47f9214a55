"""Where an index's side stores live — its BM25 terms and its ingestion manifest — chosen in one
place from the Chroma configuration.

Embedded Chroma: SQLite files in the index's side folder, beside the Chroma store they describe.
A ``chroma run`` server (http mode): two more collections on that server, so that every app
process that talks to it — on this machine or another — sees the same terms and manifest, and
nothing an answer needs stays behind in one process's data dir.

Why plain collections and not Chroma's own lexical search: local Chroma (embedded or ``chroma
run``) has no sparse vectors or BM25 search (those are Chroma Cloud's), its ``where_document`` is
a substring filter without scores, and its tokenizer shreds Devanagari. So the terms our
analyzer decides are stored as row metadata, and each process scores them itself with bm25s
(:class:`index.lexical.LexicalIndex`), rebuilding when the collection's change token moved.
The rows carry a one-dimensional dummy vector: Chroma stores no row without one.

Chroma has no transactions across calls: writes are ordered so that a crash leaves what the
ingestion pipeline already repairs (an incomplete content is redone, an abandoned one removed),
as noted at each write below.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import chromadb
from chromadb.errors import NotFoundError

from index.chroma import FEEDS_SUFFIX, LEXICAL_SUFFIX, MANIFEST_SUFFIX, ChromaConfig
from index.feeds import FEEDS_FILE, EntryState, Feed, FeedStore, SqliteFeedStore
from index.lexical import SqliteTerms, TermRow, TermStore
from index.manifest import MANIFEST_FILE, Content, Manifest, SqliteManifest
from index.records import CollectionStats

# How long a process trusts the change token it last read before asking the server again: a
# search checks it, and a question makes several searches; another process's write is seen
# this much later at most. This process's own writes are seen at once.
TOKEN_CHECK_SECONDS = 0.25
PAGE = 2000  # rows per paged read
DUMMY = [0.0]  # the vector of a row that is never searched by vector


def open_side(
    config: ChromaConfig, client: chromadb.ClientAPI, name: str, folder: Path
) -> tuple[TermStore, Callable[[], Manifest]]:
    """The index's BM25 term store, and how to open its manifest."""
    if config.mode == "http":
        return ChromaTerms(client, name), lambda: ChromaManifest(client, name)
    return SqliteTerms(folder), lambda: SqliteManifest(folder / MANIFEST_FILE)


def open_feed_store(config: ChromaConfig, client: chromadb.ClientAPI, name: str, folder: Path) -> FeedStore:
    """The index's followed feeds (:mod:`index.feeds`), where its manifest lives."""
    if config.mode == "http":
        return ChromaFeedStore(client, name)
    return SqliteFeedStore(folder / FEEDS_FILE)


def _pages(collection: Any, include: list[str], **query: Any) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset, **query)
        yield got
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


# Per process, per collection (by its id on the server): the last token read and when. Shared by
# every handle of the process, so a write through one is seen at once through the others.
_tokens: dict[str, tuple[float, str]] = {}
_tokens_lock = threading.Lock()


class ChromaTerms:
    """BM25 rows in the collection ``<index>-lexical``: id = chunk id, document = chunk text,
    metadata = content hash, terms (space-joined) and the chunk's metadata as JSON (one string,
    so any metadata the SQLite store takes is taken here too). The change token and the analyzer
    fingerprint are the collection's metadata: one small read to check.

    Safe to share between threads.
    """

    build_cache: Path | None = None  # nothing of a shared store is kept on one machine

    def __init__(self, client: chromadb.ClientAPI, name: str, check_seconds: float = TOKEN_CHECK_SECONDS):
        self._client = client
        self._name = name + LEXICAL_SUFFIX
        self._check_seconds = check_seconds
        self._lock = threading.RLock()
        self._collection = client.get_or_create_collection(self._name)

    # --- the change token ---------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        """The collection's metadata as the server has it now (the collection is made again when
        another process dropped it)."""
        try:
            collection = self._client.get_collection(self._name)
        except NotFoundError:
            collection = self._client.get_or_create_collection(self._name)
        if collection.id != self._collection.id:
            self._collection = collection
        state = dict(collection.metadata or {})
        self._remember(str(state.get("generation", "")))
        return state

    def _remember(self, token: str) -> None:
        with _tokens_lock:
            _tokens[str(self._collection.id)] = (time.monotonic(), token)

    def generation(self) -> str:
        with _tokens_lock:
            seen = _tokens.get(str(self._collection.id))
        if seen is not None and time.monotonic() - seen[0] < self._check_seconds:
            return seen[1]
        with self._lock:
            return str(self._state().get("generation", ""))

    def analyzer(self) -> str | None:
        with self._lock:
            found = self._state().get("analyzer")
            return None if found is None else str(found)

    def _bump(self, **changes: str) -> None:
        """A new token (and ``changes``), written after the rows it announces: a reader that saw
        the old token reads again; one that read the rows early builds at least as new a state."""
        token = uuid.uuid4().hex
        state = {**self._state(), **changes, "generation": token}
        self._collection.modify(metadata=state)
        self._remember(token)

    # --- writing ----------------------------------------------------------------------------------

    def replace(self, content_hash: str, rows: Sequence[TermRow]) -> None:
        """The new rows first, then the old ones they do not replace: a reader never finds the
        content missing. A crash in between leaves extra rows of a content the manifest holds
        incomplete; the next run that reads its file replaces them all."""
        with self._lock:
            old = set(self._collection.get(where={"content_hash": content_hash}, include=[])["ids"])
            if rows:
                self._upsert(rows)
            stale = old - {row[0] for row in rows}
            if stale:
                self._collection.delete(ids=sorted(stale))
            self._bump()

    def _upsert(self, rows: Sequence[TermRow]) -> None:
        batch = self._client.get_max_batch_size()
        for i in range(0, len(rows), batch):
            part = rows[i : i + batch]
            self._collection.upsert(
                ids=[r[0] for r in part],
                embeddings=[DUMMY] * len(part),
                documents=[r[4] for r in part],
                metadatas=[{"content_hash": r[1], "terms": r[2], "metadata": r[3]} for r in part],
            )

    def delete(self, content_hash: str) -> None:
        with self._lock:
            self._collection.delete(where={"content_hash": content_hash})
            self._bump()

    def touch(self) -> None:
        with self._lock:
            self._bump()

    def rewrite_terms(self, fingerprint: str, terms: Callable[[str, dict[str, Any]], str]) -> None:
        """Page by page; the fingerprint is recorded last, so a crash leaves it to be done again."""
        with self._lock:
            rows: list[TermRow] = []
            for got in _pages(self._collection, ["metadatas", "documents"]):
                for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                    metadata, text = str(meta.get("metadata") or "{}"), text or ""
                    tokens = terms(text, json.loads(metadata))
                    rows.append((chunk_id, str(meta["content_hash"]), tokens, metadata, text))
            if rows:
                self._upsert(rows)
            self._bump(analyzer=fingerprint)

    # --- reading ----------------------------------------------------------------------------------

    def count(self) -> int:
        return self._collection.count()

    def chunk_ids_by_content(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for got in _pages(self._collection, ["metadatas"]):
            for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                found.setdefault(str(meta["content_hash"]), set()).add(chunk_id)
        return found

    def snapshot(self) -> tuple[Hashable, list[tuple[str, str, str]]]:
        """The token read first, then the rows page by page: a write landing meanwhile moves the
        token past the one returned, so the next check builds again."""
        with self._lock:
            token = str(self._state().get("generation", ""))
        rows: list[tuple[str, str, str]] = []
        for got in _pages(self._collection, ["metadatas"]):
            for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                rows.append((chunk_id, str(meta.get("terms") or ""), str(meta.get("metadata") or "{}")))
        return token, rows

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        if not chunk_ids:
            return {}
        got = self._collection.get(ids=list(chunk_ids), include=["documents"])
        return {i: d or "" for i, d in zip(got["ids"], got["documents"], strict=True)}

    def stats(self) -> CollectionStats | None:
        return None  # no aggregates in Chroma: counted over the rows the index built from

    def reading(self) -> nullcontext[None]:
        return nullcontext()

    def close(self) -> None:
        pass


# --- the manifest -------------------------------------------------------------------------------


def _holder_id(name: str, path: str) -> str:
    # Names and paths are arbitrary text of any length: the id is a digest of the pair.
    return "holder:" + hashlib.sha256(f"{name}\n{path}".encode()).hexdigest()


def _name_id(name: str) -> str:
    return "name:" + hashlib.sha256(name.encode()).hexdigest()


def _file_id(path: str) -> str:
    return "file:" + hashlib.sha256(path.encode()).hexdigest()


def _content_id(content_hash: str) -> str:
    return "content:" + content_hash


def _and(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"$and": list(conditions)}


class ChromaManifest(Manifest):
    """The manifest as records of the collection ``<index>-manifest`` (metadata only; dummy
    vectors): a ``kind`` (file, name, holder, content) and the fields of the SQLite tables.

    Each call is one or two requests; several records written together go in one request where
    they can, and otherwise in the order that leaves a state the ingestion pipeline handles.
    """

    def __init__(self, client: chromadb.ClientAPI, name: str):
        self._collection = client.get_or_create_collection(name + MANIFEST_SUFFIX)

    def close(self) -> None:
        pass

    # --- helpers ------------------------------------------------------------------------------

    def _where(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for got in _pages(self._collection, ["metadatas"], where=where):
            found.extend(dict(m) for m in got["metadatas"])
        return found

    def _one(self, record_id: str) -> dict[str, Any] | None:
        got = self._collection.get(ids=[record_id], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def _put(self, records: dict[str, dict[str, Any]]) -> None:
        """Write these records whole, in one request."""
        if records:
            self._collection.upsert(
                ids=list(records), embeddings=[DUMMY] * len(records), metadatas=list(records.values())
            )

    @staticmethod
    def _content(meta: dict[str, Any]) -> Content:
        return Content(
            str(meta["content_hash"]),
            str(meta.get("article_id") or ""),
            str(meta.get("title") or ""),
            int(meta.get("n_chunks") or 0),
            bool(meta.get("complete")),
        )

    # --- files --------------------------------------------------------------------------------

    def file_unchanged(self, path: str, size: int, mtime_ns: int) -> bool:
        row = self._one(_file_id(path))
        if row is None or (row.get("size"), row.get("mtime_ns")) != (size, mtime_ns):
            return False
        hashes = set(self.names_for_path(path).values())
        if not hashes:
            return True
        complete = {
            str(m["content_hash"])
            for m in self._where(
                _and({"kind": "content"}, {"content_hash": {"$in": sorted(hashes)}}, {"complete": True})
            )
        }
        return hashes <= complete

    def record_file(self, path: str, size: int, mtime_ns: int) -> None:
        self._put({_file_id(path): {"kind": "file", "path": path, "size": size, "mtime_ns": mtime_ns}})

    def forget_file(self, path: str) -> None:
        self._collection.delete(ids=[_file_id(path)])

    def files(self) -> list[str]:
        return sorted(str(m["path"]) for m in self._where({"kind": "file"}))

    def known_paths(self) -> list[str]:
        return sorted({str(m["path"]) for m in self._where({"kind": {"$in": ["file", "holder"]}})})

    # --- names --------------------------------------------------------------------------------

    def names_for_path(self, path: str) -> dict[str, str]:
        held = sorted({str(m["name"]) for m in self._where(_and({"kind": "holder"}, {"path": path}))})
        if not held:
            return {}
        got = self._collection.get(ids=[_name_id(n) for n in held], include=["metadatas"])
        return {str(m["name"]): str(m["content_hash"]) for m in got["metadatas"]}

    def holders(self, name: str) -> list[str]:
        return sorted(str(m["path"]) for m in self._where(_and({"kind": "holder"}, {"name": name})))

    def names_for_content(self, content_hash: str) -> list[str]:
        rows = self._where(_and({"kind": "name"}, {"content_hash": content_hash}))
        return sorted(str(m["name"]) for m in rows)

    def path_of(self, name: str) -> str | None:
        row = self._one(_name_id(name))
        return (str(row.get("path") or "") or None) if row else None

    def content_of(self, name: str) -> str | None:
        row = self._one(_name_id(name))
        return str(row["content_hash"]) if row else None

    def set_name(self, name: str, content_hash: str, path: str) -> None:
        self._put(
            {
                _name_id(name): {"kind": "name", "name": name, "content_hash": content_hash, "path": path},
                _holder_id(name, path): {"kind": "holder", "name": name, "path": path},
            }
        )

    def hold(self, name: str, path: str) -> None:
        self._put({_holder_id(name, path): {"kind": "holder", "name": name, "path": path}})

    def release(self, name: str, path: str) -> list[str]:
        """The holder goes first: a crash before the name's path moves leaves it naming a file
        that no longer holds it, which only decides which copy's details count."""
        self._collection.delete(ids=[_holder_id(name, path)])
        remaining = self.holders(name)
        row = self._one(_name_id(name))
        if remaining and row is not None and row.get("path") == path:
            self._put({_name_id(name): {**row, "path": remaining[0]}})
        return remaining

    def drop_name(self, name: str) -> None:
        # The name and its holders in one request: every one of them carries the name.
        self._collection.delete(where=_and({"kind": {"$in": ["name", "holder"]}}, {"name": name}))

    def count_names(self) -> int:
        return len(self._where({"kind": "name"}))

    # --- contents -----------------------------------------------------------------------------

    def content(self, content_hash: str) -> Content | None:
        row = self._one(_content_id(content_hash))
        return self._content(row) if row else None

    def begin_content(self, content_hash: str, article_id: str, title: str, n_chunks: int) -> None:
        record = {
            "kind": "content",
            "content_hash": content_hash,
            "article_id": article_id,
            "title": title,
            "n_chunks": n_chunks,
            "complete": False,
        }
        self._put({_content_id(content_hash): record})

    def contents(self) -> list[Content]:
        rows = [self._content(m) for m in self._where({"kind": "content"})]
        return sorted(rows, key=lambda c: c.content_hash)

    def _set(self, content_hash: str, **fields: Any) -> None:
        row = self._one(_content_id(content_hash))
        if row is not None:
            self._put({_content_id(content_hash): {**row, **fields}})

    def mark_incomplete(self, content_hash: str) -> None:
        self._set(content_hash, complete=False)

    def complete_content(self, content_hash: str) -> None:
        self._set(content_hash, complete=True)

    def relabel_content(self, content_hash: str, article_id: str) -> None:
        self._set(content_hash, article_id=article_id)

    def abandoned_contents(self) -> list[Content]:
        incomplete = self._where(_and({"kind": "content"}, {"complete": False}))
        if not incomplete:
            return []
        hashes = sorted(str(m["content_hash"]) for m in incomplete)
        named = {
            str(m["content_hash"])
            for m in self._where(_and({"kind": "name"}, {"content_hash": {"$in": hashes}}))
        }
        return sorted(
            (self._content(m) for m in incomplete if m["content_hash"] not in named),
            key=lambda c: c.content_hash,
        )

    def drop_content(self, content_hash: str) -> None:
        self._collection.delete(ids=[_content_id(content_hash)])

    def stats(self) -> dict[str, int]:
        records = self._where({"kind": {"$in": ["file", "name", "content"]}})
        stored = [m for m in records if m["kind"] == "content" and m.get("complete")]
        return {
            "files": sum(m["kind"] == "file" for m in records),
            "articles": sum(m["kind"] == "name" for m in records),
            "stored": len(stored),
            "chunks": sum(int(m.get("n_chunks") or 0) for m in stored),
        }


# --- the followed feeds ---------------------------------------------------------------------------


def _feed_id(url: str) -> str:
    return "feed:" + hashlib.sha256(url.encode()).hexdigest()


def _entry_id(feed: str, entry: str) -> str:
    return "entry:" + hashlib.sha256(f"{feed}\n{entry}".encode()).hexdigest()


class ChromaFeedStore(FeedStore):
    """The followed feeds as records of the collection ``<index>-feeds`` (metadata only; dummy
    vectors): a ``kind`` (feed, entry) and the fields of :class:`index.feeds.Feed` and
    :class:`index.feeds.EntryState`."""

    _FEED_FIELDS = ("url", "name", "added", "etag", "last_modified", "last_checked", "last_status")
    _ENTRY_FIELDS = ("feed", "entry", "article", "content_hash", "fetched_from", "updated")

    def __init__(self, client: chromadb.ClientAPI, name: str):
        self._collection = client.get_or_create_collection(name + FEEDS_SUFFIX)

    def close(self) -> None:
        pass

    def _put(self, record_id: str, kind: str, fields: dict[str, Any]) -> None:
        meta = {"kind": kind, **{k: str(v) for k, v in fields.items()}}
        self._collection.upsert(ids=[record_id], embeddings=[DUMMY], metadatas=[meta])

    def _where(self, where: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for got in _pages(self._collection, ["metadatas"], where=where):
            found.extend(dict(m) for m in got["metadatas"])
        return found

    def _feed(self, meta: dict[str, Any]) -> Feed:
        return Feed(**{k: str(meta.get(k) or "") for k in self._FEED_FIELDS})

    def _entry(self, meta: dict[str, Any]) -> EntryState:
        return EntryState(**{k: str(meta.get(k) or "") for k in self._ENTRY_FIELDS})

    def add(self, feed: Feed) -> None:
        self._put(_feed_id(feed.url), "feed", vars(feed))

    def get(self, url: str) -> Feed | None:
        got = self._collection.get(ids=[_feed_id(url)], include=["metadatas"])
        return self._feed(dict(got["metadatas"][0])) if got["ids"] else None

    def list(self) -> list[Feed]:
        feeds = [self._feed(m) for m in self._where({"kind": "feed"})]
        return sorted(feeds, key=lambda f: (f.name, f.url))

    def remove(self, url: str) -> None:
        # The feed first: a crash between the two leaves entries no feed lists, which a feed
        # added again takes back (its entries are then known, not fetched again).
        self._collection.delete(ids=[_feed_id(url)])
        self._collection.delete(where=_and({"kind": "entry"}, {"feed": url}))

    def update(self, feed: Feed) -> None:
        if self.get(feed.url) is not None:
            self.add(feed)

    def entry(self, feed: str, entry: str) -> EntryState | None:
        got = self._collection.get(ids=[_entry_id(feed, entry)], include=["metadatas"])
        return self._entry(dict(got["metadatas"][0])) if got["ids"] else None

    def entries(self, feed: str) -> list[EntryState]:
        rows = [self._entry(m) for m in self._where(_and({"kind": "entry"}, {"feed": feed}))]
        return sorted(rows, key=lambda e: e.entry)

    def put_entry(self, state: EntryState) -> None:
        self._put(_entry_id(state.feed, state.entry), "entry", vars(state))
