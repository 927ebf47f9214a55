"""The Chroma collections an index opens: search breadth set on new and existing collections; rows
whose vectors Chroma lost are found. The tests that open an index run in both Chroma modes:
embedded, and a `chroma run` server holding the BM25 terms and the manifest too."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chromadb.errors import InternalError

from index.chroma import chroma_client, open_stores
from index.lexical import LexicalIndex
from index.records import Article, Chunk, Sentence
from index.side import open_side
from index.store import _unreadable
from khabar import components


def test_dense_search_breadth_is_set_on_new_and_existing_collections(make_settings, chroma_mode):
    name = chroma_mode.get("index_name", "breadth")
    stores = open_stores(client(make_settings(**chroma_mode)), name, 500)
    assert stores.chunk_collection.configuration["hnsw"]["ef_search"] == 500
    assert stores.chunk_collection.configuration["hnsw"]["space"] == "cosine"
    # An index made before (or with another value) is brought to the configured breadth.
    again = open_stores(client(make_settings(**chroma_mode)), name, 300)
    assert again.chunk_collection.configuration["hnsw"]["ef_search"] == 300
    assert again.chunk_collection.configuration["hnsw"]["space"] == "cosine"


def client(settings):
    return chroma_client(components.storage_config(settings).chroma)


class LosingCollection:
    """Answers ``get`` as a Chroma collection does that lost some rows' vectors: any read of
    embeddings that reaches one of them fails, whatever else it asks for."""

    def __init__(self, rows: dict[str, str], lost: set[str]):
        self.rows, self.lost = rows, lost  # row id -> content hash
        self.reads: list[dict] = []

    def get(self, ids=None, where=None, include=()):
        self.reads.append({"ids": ids, "where": where})
        wanted = (where or {}).get("content_hash")
        hashes = set(wanted["$in"]) if isinstance(wanted, dict) else {wanted} if wanted else None
        found = [
            i for i, h in self.rows.items() if (ids is None or i in ids) and (hashes is None or h in hashes)
        ]
        if "embeddings" in include and self.lost & set(found):
            raise InternalError("Error executing plan: Internal error: Error getting embedding")
        return {"ids": found}


def test_rows_whose_vectors_are_lost_are_found_reading_only_what_fails_again():
    rows = {f"{h}:{i}": h for h in "abcdef" for i in range(3)}
    collection = LosingCollection(rows, lost={"b:1", "e:0", "e:2"})
    assert _unreadable(collection, list("abcdef"), batch=3) == {"b:1", "e:0", "e:2"}
    # Two batches (both fail), then their contents one by one, then only b's and e's rows.
    per_row = [r["ids"][0] for r in collection.reads if r["ids"]]
    assert sorted(per_row) == ["b:0", "b:1", "b:2", "e:0", "e:1", "e:2"]
    assert len(collection.reads) == 2 + 6 + 2 + 6
    clean = LosingCollection(rows, lost=set())
    assert _unreadable(clean, list("abcdef"), batch=3) == set() and len(clean.reads) == 2


def test_a_bm25_row_whose_chunk_chroma_lacks_is_skipped_not_raised(make_settings, chroma_mode):
    """A BM25 row for a chunk Chroma does not hold (another process's write not yet seen, or a
    half-written one) is left out of lexical results; reading its vector or sentences is empty."""
    text = "Monsoon floods hit Kerala. Rescue boats reached the villages."
    article = Article(id="kerala", title="Floods", text=text)
    chunk_id = article.content_hash[:16] + ":0"
    sentences = [Sentence(0, 26, text[:26]), Sentence(27, len(text), text[27:])]
    settings = make_settings(**chroma_mode)
    with components.open_index(settings) as index:
        index.write(
            article, [Chunk(chunk_id, 0, 0, len(text), text)], [[1.0, 0.0]], sentences, [[1.0, 0.0]] * 2
        )
        ghost_hash = "f" * 64
        # As another process's BM25 write, without its Chroma rows.
        storage = components.storage_config(settings)
        terms, _ = open_side(storage.chroma, client(settings), index.name, index.folder)
        ghost = LexicalIndex(terms)
        try:
            meta = {"article_id": "ghost", "title": "Ghost", "content_hash": ghost_hash, "chunk_index": 0}
            ghost.add(ghost_hash, [("ffffffffffffffff:0", "Monsoon floods hit Kerala again", meta)])
            assert {r[0] for r in ghost.search("monsoon floods Kerala", 5)} == {
                chunk_id,
                "ffffffffffffffff:0",
            }
        finally:
            ghost.close()
        assert [p.chunk_id for p in index.lexical_search("monsoon floods Kerala", 5)] == [chunk_id]
        assert [p.chunk_id for p in index.dense_search([1.0, 0.0], 5)] == [chunk_id]
        ids, vectors = index.chunk_vectors(["ffffffffffffffff:0", chunk_id])
        assert ids == [chunk_id] and vectors.shape == (1, 2)
        found = index.sentences([ghost_hash, article.content_hash])
        assert found[ghost_hash].rows == [] and len(found[article.content_hash].rows) == 2


def test_sentences_are_read_from_the_side_table_and_chroma_only_for_contents_it_lacks(make_settings):
    """Answering reads a content's sentences from the rows written with it, never from Chroma; a
    content stored before the table existed is read from Chroma once, then recorded; deleting or
    mending a content's sentences is seen."""
    text = "Monsoon floods hit Kerala. Rescue boats reached the villages. Schools stayed shut."
    spans = [(0, 26), (27, 61), (62, len(text))]
    article = Article(id="kerala", title="Floods", text=text)
    h = article.content_hash
    with components.open_index(make_settings()) as index:
        index.write(
            article,
            [Chunk(h[:16] + ":0", 0, 0, len(text), text)],
            [[1.0, 0.0]],
            [Sentence(s, e, text[s:e]) for s, e in spans],
            [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]],
        )
        expected = [(text[s:e], s, e) for s, e in spans]
        index.dense_search([1.0, 0.0], 1)  # the handle reopens Chroma after its own write: now
        reads: list[dict] = []
        collection = index._stores.sentence_collection
        real_get = collection.get

        def counted(**query):
            reads.append(query)
            return real_get(**query)

        collection.get = counted
        try:
            first = index.sentences([h])[h]
            assert first.rows == expected and [list(v) for v in first.vectors][1] == [0.0, 1.0]
            assert reads == []
            index._sentence_rows.delete([h])  # as an index written before the table existed
            assert index.sentences([h])[h].rows == expected
            assert index.sentences([h])[h].rows == expected
            assert len(reads) == 1 and "where" in reads[0]
        finally:
            collection.get = real_get
        index.replace_vectors({}, {f"{h[:16]}:s27-61": [0.8, 0.6]})
        mended = index.sentences([h])[h]
        assert [round(float(x), 3) for x in mended.vectors[1]] == [0.8, 0.6] and mended.rows == expected
        index.delete(h)
        assert index.sentences([h])[h].rows == [] and index._sentence_rows.get([h]) == {}


def test_a_filtered_dense_search_finds_what_chromas_own_filter_finds(make_settings, chroma_mode):
    """The post-filtered plain search (broad filters) and Chroma's filter (narrow ones) give the
    same passages in the same order as Chroma's filtered search alone, for filters of every width."""
    import numpy as np

    from index.records import SearchFilters

    rng = np.random.default_rng(7)
    days = ["2024-03-0" + str(1 + i % 9) for i in range(30)] + [""] * 6
    settings = make_settings(**chroma_mode)
    with components.open_index(settings) as index:
        for i, day in enumerate(days):
            text = f"Report number {i} on the harbour."
            article = Article(
                id=f"a{i}",
                title=f"Report {i}",
                text=text,
                language="hi" if i % 3 == 0 else "en",
                source="BBC" if i % 2 else "CNN",
                published=day,
            )
            vector = rng.normal(size=8)
            index.write(
                article,
                [Chunk(article.content_hash[:16] + ":0", 0, 0, len(text), text)],
                [list(vector / np.linalg.norm(vector))],
                [Sentence(0, len(text), text)],
                [list(vector / np.linalg.norm(vector))],
            )
    chroma_only = make_settings(**chroma_mode, chroma_filter_oversample=1)
    cases = {
        "language": SearchFilters(languages=["en"]),  # two thirds pass: the plain search suffices
        "one day": SearchFilters(date_from="2024-03-02", date_to="2024-03-02"),  # narrow: Chroma's filter
        "days or undated": SearchFilters(date_from="2024-03-01", date_to="2024-03-04", undated=True),
        "source and language": SearchFilters(languages=["hi"], sources=["CNN"]),
        "nothing": SearchFilters(languages=["ta"]),
    }
    with (
        components.open_index(settings) as index,
        components.open_index(settings) as with_rows,
        components.open_index(chroma_only) as plain,
    ):
        # With the BM25 index loaded, the filter reads its rows' metadata instead of Chroma's.
        with_rows.warm_up(dense=False)
        assert with_rows._lexical.metadata_of(["no such chunk"]) == [None]
        assert index._lexical.metadata_of(["no such chunk"]) is None  # never loaded: not loaded for this
        for query in rng.normal(size=(4, 8)):
            for label, filters in cases.items():
                for top_k in (3, 10):
                    theirs = plain.dense_search(list(query), top_k, filters)
                    for ours in (
                        index.dense_search(list(query), top_k, filters),
                        with_rows.dense_search(list(query), top_k, filters),
                    ):
                        assert [(p.chunk_id, p.rank) for p in ours] == [
                            (p.chunk_id, p.rank) for p in theirs
                        ], label
                        assert [p.score for p in ours] == pytest.approx([p.score for p in theirs], abs=1e-6)
                        # Every other field too: text, offsets, title, language, source, date.
                        assert [replace(p, score=0) for p in ours] == [replace(p, score=0) for p in theirs]
                        assert len(ours) == min(
                            top_k, sum(_passes(d, i, filters) for i, d in enumerate(days))
                        )


def _passes(day: str, i: int, filters) -> bool:
    """The test's own reading of a filter over the articles written above."""
    language, source = ("hi" if i % 3 == 0 else "en"), ("BBC" if i % 2 else "CNN")
    if filters.languages and language not in filters.languages:
        return False
    if filters.sources and source not in filters.sources:
        return False
    if not day:
        return filters.undated or not (filters.date_from or filters.date_to)
    return (not filters.date_from or day >= filters.date_from) and (
        not filters.date_to or day <= filters.date_to
    )
