"""The ingestion manifest's contract, over both stores: a SQLite file (embedded mode) and a
collection on a `chroma run` server (http mode), where every app process sees it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.chroma import ChromaConfig, chroma_client
from index.manifest import Content, Manifest, SqliteManifest
from index.side import ChromaManifest

MTIME = 1_796_000_000_123_456_789  # nanoseconds: beyond 32 bits, as real ones are


@pytest.fixture(params=["sqlite", "chroma"])
def open_manifest(request, tmp_path: Path) -> Iterator[Callable[[], Manifest]]:
    """Opens the test's manifest (again: each call is a new handle on the same store)."""
    opened: list[Manifest] = []
    if request.param == "sqlite":

        def make() -> Manifest:
            return SqliteManifest(tmp_path / "manifest.sqlite")

    else:
        server = request.getfixturevalue("chroma_server")
        client = chroma_client(ChromaConfig("http", tmp_path, server.host, server.port))
        name = f"t-{uuid.uuid4().hex[:12]}"

        def make() -> Manifest:
            return ChromaManifest(client, name)

    def factory() -> Manifest:
        opened.append(make())
        return opened[-1]

    yield factory
    for manifest in opened:
        manifest.close()


def test_files_are_unchanged_only_with_the_same_size_and_time(open_manifest):
    m = open_manifest()
    assert not m.file_unchanged("/news/a.txt", 10, MTIME) and m.files() == []
    m.record_file("/news/a.txt", 10, MTIME)
    assert m.file_unchanged("/news/a.txt", 10, MTIME)
    assert not m.file_unchanged("/news/a.txt", 11, MTIME) and not m.file_unchanged(
        "/news/a.txt", 10, MTIME + 1
    )
    m.record_file("/news/a.txt", 11, MTIME + 1)  # recorded again: replaced
    assert m.file_unchanged("/news/a.txt", 11, MTIME + 1) and m.files() == ["/news/a.txt"]
    m.forget_file("/news/a.txt")
    assert m.files() == [] and not m.file_unchanged("/news/a.txt", 11, MTIME + 1)


def test_a_file_holding_an_incomplete_content_is_not_unchanged(open_manifest):
    m = open_manifest()
    m.record_file("/news/a.txt", 10, MTIME)
    m.begin_content("h1", "a.txt", "Title", 3)
    m.set_name("a.txt", "h1", "/news/a.txt")
    assert not m.file_unchanged("/news/a.txt", 10, MTIME)
    m.complete_content("h1")
    assert m.file_unchanged("/news/a.txt", 10, MTIME)
    m.mark_incomplete("h1")  # found damaged: read again
    assert not m.file_unchanged("/news/a.txt", 10, MTIME)


def test_a_name_held_by_two_files_goes_with_the_last_one(open_manifest):
    m = open_manifest()
    m.set_name("kim", "h1", "/feeds/one.jsonl")
    m.hold("kim", "/feeds/two.jsonl")
    m.set_name("putin", "h2", "/feeds/one.jsonl")
    assert m.names_for_path("/feeds/one.jsonl") == {"kim": "h1", "putin": "h2"}
    assert m.names_for_path("/feeds/two.jsonl") == {"kim": "h1"}
    assert m.holders("kim") == ["/feeds/one.jsonl", "/feeds/two.jsonl"]
    assert m.known_paths() == ["/feeds/one.jsonl", "/feeds/two.jsonl"]  # held, though never recorded
    assert (m.path_of("kim"), m.content_of("kim"), m.count_names()) == ("/feeds/one.jsonl", "h1", 2)
    # The file its text came from lets it go: the name now counts as coming from the other.
    assert m.release("kim", "/feeds/one.jsonl") == ["/feeds/two.jsonl"]
    assert m.path_of("kim") == "/feeds/two.jsonl" and m.names_for_path("/feeds/one.jsonl") == {"putin": "h2"}
    assert m.release("kim", "/feeds/two.jsonl") == []
    m.drop_name("kim")
    assert m.content_of("kim") is None and m.path_of("kim") is None and m.holders("kim") == []
    assert m.count_names() == 1 and m.known_paths() == ["/feeds/one.jsonl"]


def test_the_same_text_under_two_names(open_manifest):
    m = open_manifest()
    m.set_name("b.txt", "h1", "/news/b.txt")
    m.set_name("a.txt", "h1", "/news/a.txt")
    m.set_name("c.txt", "h2", "/news/c.txt")
    assert m.names_for_content("h1") == ["a.txt", "b.txt"] and m.names_for_content("h3") == []
    m.set_name("a.txt", "h2", "/news/a.txt")  # its text changed
    assert m.names_for_content("h1") == ["b.txt"] and m.names_for_content("h2") == ["a.txt", "c.txt"]


def test_contents_from_begun_to_complete_and_what_an_interrupted_run_abandoned(open_manifest):
    m = open_manifest()
    assert m.content("h1") is None and m.contents() == [] and m.abandoned_contents() == []
    m.begin_content("h2", "b.txt", "बी", 2)
    m.begin_content("h1", "a.txt", "A", 3)
    assert m.content("h1") == Content("h1", "a.txt", "A", 3, False)
    m.complete_content("h1")
    m.set_name("a.txt", "h1", "/news/a.txt")
    # h2 was begun but no name holds it: what was written of it belongs to no article.
    assert m.abandoned_contents() == [Content("h2", "b.txt", "बी", 2, False)]
    m.begin_content("h3", "c.txt", "C", 1)
    m.set_name("c.txt", "h3", "/news/c.txt")  # incomplete, but named: redone when its file is read
    assert [c.content_hash for c in m.abandoned_contents()] == ["h2"]
    m.relabel_content("h1", "copy.txt")
    assert m.content("h1") == Content("h1", "copy.txt", "A", 3, True)
    assert [c.content_hash for c in m.contents()] == ["h1", "h2", "h3"]
    m.record_file("/news/a.txt", 1, MTIME)
    assert m.stats() == {"files": 1, "articles": 2, "stored": 1, "chunks": 3}
    m.drop_content("h2")
    assert m.content("h2") is None and m.abandoned_contents() == []


def test_another_handle_sees_what_was_written(open_manifest):
    m = open_manifest()
    m.record_file("/news/a.txt", 10, MTIME)
    m.begin_content("h1", "a.txt", "A", 1)
    m.complete_content("h1")
    m.set_name("a.txt", "h1", "/news/a.txt")
    m.close()
    again = open_manifest()
    assert again.file_unchanged("/news/a.txt", 10, MTIME)
    assert again.names_for_path("/news/a.txt") == {"a.txt": "h1"}
    assert again.stats() == {"files": 1, "articles": 1, "stored": 1, "chunks": 1}
