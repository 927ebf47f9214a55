"""The followed feeds' store, over both homes: a SQLite file beside the manifest (embedded mode)
and a collection on a `chroma run` server (http mode), where a second app process sees the same
feeds and entries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.chroma import ChromaConfig, chroma_client
from index.feeds import EntryState, Feed, FeedStore, SqliteFeedStore
from index.side import ChromaFeedStore


@pytest.fixture(params=["sqlite", "chroma"])
def open_store(request, tmp_path: Path) -> Iterator[Callable[[], FeedStore]]:
    """Opens the test's store (again: each call is a new handle, as a second process would)."""
    opened: list[FeedStore] = []
    if request.param == "sqlite":

        def make() -> FeedStore:
            return SqliteFeedStore(tmp_path / "feeds.sqlite")

    else:
        server = request.getfixturevalue("chroma_server")
        client = chroma_client(ChromaConfig("http", tmp_path, server.host, server.port))
        name = f"t-{uuid.uuid4().hex[:12]}"

        def make() -> FeedStore:
            return ChromaFeedStore(client, name)

    def factory() -> FeedStore:
        opened.append(make())
        return opened[-1]

    yield factory
    for store in opened:
        store.close()


def test_feeds_and_entries_are_seen_by_another_handle_and_go_when_unfollowed(open_store):
    one, two = open_store(), open_store()
    one.add(Feed("https://b.example/rss", "Beta News", "2026-12-01T00:00:00+00:00"))
    one.add(Feed("https://a.example/atom", "Alpha", "2026-12-02T00:00:00+00:00"))
    assert [f.name for f in two.list()] == ["Alpha", "Beta News"]
    assert two.get("https://nowhere.example/") is None

    feed = two.get("https://b.example/rss")
    feed.etag, feed.last_modified, feed.last_checked = '"v2"', "Tue, 01 Dec 2026 10:00:00 GMT", "2026-12-03"
    feed.last_status = "ok: 1 new, 0 updated"
    two.update(feed)
    assert one.get("https://b.example/rss") == feed

    state = EntryState("https://b.example/rss", "guid-1", "https://b.example/story", "abc", "summary", "")
    one.put_entry(state)
    assert two.entry("https://b.example/rss", "guid-1") == state
    assert two.entry("https://a.example/atom", "guid-1") is None
    two.put_entry(EntryState(state.feed, "guid-1", state.article, "def", "page", "2026-12-02"))
    assert [e.content_hash for e in one.entries("https://b.example/rss")] == ["def"]

    one.remove("https://b.example/rss")
    assert [f.url for f in two.list()] == ["https://a.example/atom"]
    assert two.entries("https://b.example/rss") == []
    two.update(feed)  # a refresh that ends after the feed was removed does not bring it back
    assert one.get("https://b.example/rss") is None
