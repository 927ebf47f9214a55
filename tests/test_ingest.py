"""Ingestion end to end with the real model on small articles: incremental, idempotent, safe to
interrupt, honest about bad input. Embedding work is counted, not guessed from timings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from llama_index.vector_stores.chroma import ChromaVectorStore

from index.chroma import Stores, chroma_client, open_stores
from index.embedding import Embedder
from index.lexical import LexicalIndex
from index.records import Article
from index.store import Index
from ingest.chunking import unique_sentences
from ingest.pipeline import IngestReport
from ingest.sources.dispatch import read_file
from khabar import components
from khabar.settings import Settings
from tests.factories import within

pytestmark = pytest.mark.integration  # the real bundled model (its tokenizer at least)

A_TEXT = (
    "दिल्ली में मानसून की पहली बारिश हुई। मौसम विभाग ने अगले तीन दिन भारी बारिश की चेतावनी दी है।\n"
    "कई इलाकों में जलभराव से यातायात धीमा रहा। नगर निगम ने पंप लगाए हैं।"
)
B_TEXT = (
    "The city council approved a new budget on Monday. Spending on public transport rises by ten "
    "per cent.\nThe mayor said the plan would cut traffic. Critics called it too cautious."
)
C_TEXT = (
    "भारतीय क्रिकेट टीम ने फाइनल मुकाबला जीत लिया। कप्तान ने टीम के प्रदर्शन की तारीफ की।\n"
    "अगला दौरा अगले महीने ऑस्ट्रेलिया में होगा।"
)
MD_ARTICLE = """---
title: Solar plant opens in Rajasthan
source: Khabar Wire
url: https://news.example.org/solar
date: 2023-09-14
language: en
---
A new solar plant opened near Jodhpur on Thursday. It will supply power to two hundred thousand homes.

Officials said a second plant is planned for next year.
"""


class EmbedCounter:
    """Counts the texts the model embeds for passages (queries are not ingestion work)."""

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def reset(self) -> None:
        self.calls = self.texts = 0


@pytest.fixture
def embedded(monkeypatch, embed_model) -> EmbedCounter:
    counter = EmbedCounter()
    original = type(embed_model).embed_passages

    def counting(self, texts):
        counter.calls += 1
        counter.texts += len(texts)
        return original(self, texts)

    monkeypatch.setattr(type(embed_model), "embed_passages", counting)
    return counter


@pytest.fixture
def news(tmp_path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text("मानसून की पहली बारिश\n" + A_TEXT, encoding="utf-8")
    (folder / "b.txt").write_text("Council passes budget\n" + B_TEXT, encoding="utf-8")
    return folder


class Runner:
    """``run(*paths, prune=False, verify=False)``: one ``khabar ingest`` run (a fresh Ingestor) over
    one data dir."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def __call__(self, *paths: Path, prune: bool = False, verify: bool = False) -> IngestReport:
        ingestor = components.ingestor(self.settings)
        try:
            return ingestor.ingest(list(paths), prune=prune, verify=verify)
        finally:
            ingestor.close()


@pytest.fixture
def run(make_settings) -> Runner:
    return Runner(make_settings())


@pytest.fixture
def run_any_mode(make_settings, chroma_mode) -> Runner:
    """``run`` in each Chroma mode: embedded, and on a `chroma run` server (which then holds the
    BM25 terms and the manifest too)."""
    return Runner(make_settings(**chroma_mode))


def stores_of(run: Runner) -> Stores:
    """The index's Chroma collections themselves: these tests check what is stored."""
    storage = components.storage_config(run.settings)
    return open_stores(chroma_client(storage.chroma), run.settings.index_name, storage.ef_search)


def chunk_ids(run) -> list[str]:
    return stores_of(run).chunk_collection.get()["ids"]


def sentence_ids(run) -> list[str]:
    return stores_of(run).sentence_collection.get()["ids"]


def stored(run, collection: str = "chunk") -> list[dict]:
    stores = stores_of(run)
    c = stores.chunk_collection if collection == "chunk" else stores.sentence_collection
    got = c.get(include=["metadatas", "documents"])
    rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    return [{"id": i, "text": d, **m} for i, d, m in rows]


def lexical_ids(run) -> set[str]:
    """The chunk ids with BM25 rows, wherever the mode keeps them."""
    with components.open_index(run.settings) as index:
        return {chunk_id for records in index.survey().values() for chunk_id in records.lexical}


def expected_counts(embed_model, settings, articles: list[Article]) -> tuple[set[str], int]:
    from ingest.chunking import Chunker

    chunker = Chunker(embed_model.token_ids, settings.chunk_tokens, settings.chunk_overlap_tokens)
    ids: set[str] = set()
    n_sentences = 0
    for a in articles:
        chunks = chunker.chunk(a)
        ids |= {c.id for c in chunks}
        n_sentences += len(unique_sentences(chunks))
    return ids, n_sentences


# --- first ingest -----------------------------------------------------------------------------


def test_chunks_know_their_article_and_exact_span(run, news, embedded):
    (news / "solar.md").write_text(MD_ARTICLE, encoding="utf-8")
    report = run(news)
    assert report.ok and report.added == 3 and report.chunks >= 3
    assert embedded.texts == report.chunks + report.sentences  # every chunk and sentence, once

    articles = {a.id: a for f in sorted(news.iterdir()) for a in read_file(f, news).articles}
    assert set(articles) == {"a.txt", "b.txt", "solar.md"}
    chunks = stored(run, "chunk")
    assert {c["article_id"] for c in chunks} == set(articles)
    for c in chunks:
        a = articles[c["article_id"]]
        assert a.text[c["start"] : c["end"]] == c["text"]
        assert c["content_hash"] == a.content_hash and c["title"] == a.title
        assert c["language"] == a.language and c["language"] in ("hi", "en")
        assert c["path"] == str((news / c["article_id"]).resolve())
    solar = next(c for c in chunks if c["article_id"] == "solar.md")
    assert solar["title"] == "Solar plant opens in Rajasthan"
    assert solar["source"] == "Khabar Wire"
    assert solar["url"] == "https://news.example.org/solar"
    assert solar["published"] == "2023-09-14" and solar["published_day"] == 20230914
    assert solar["language"] == "en"
    hindi = next(c for c in chunks if c["article_id"] == "a.txt")
    assert hindi["language"] == "hi" and hindi["title"] == "मानसून की पहली बारिश"

    sentences = stored(run, "sentence")
    assert len(sentences) == report.sentences
    for s in sentences:
        assert articles[s["article_id"]].text[s["start"] : s["end"]] == s["text"]
    assert any(s["text"] == "नगर निगम ने पंप लगाए हैं।" for s in sentences)
    # The lexical (BM25) index holds the same chunks.
    assert lexical_ids(run) == {c["id"] for c in chunks}


def test_the_ingestors_settings_decide_language_detection(make_settings, news, embedded):
    (news / "solar.md").write_text(MD_ARTICLE, encoding="utf-8")
    run = Runner(make_settings(language_detection=False))
    assert run(news).ok
    languages = {c["article_id"]: c["language"] for c in stored(run, "chunk")}
    assert languages == {"a.txt": "", "b.txt": "", "solar.md": "en"}  # only the stated one


# --- incremental and idempotent ---------------------------------------------------------------


def test_unchanged_files_cost_no_embedding(run, news, embedded, monkeypatch):
    first = run(news)
    ids, sents = sorted(chunk_ids(run)), sorted(sentence_ids(run))
    embedded.reset()

    again = run(news)
    assert embedded.calls == 0
    assert (again.added, again.updated, again.unchanged, again.chunks, again.sentences) == (0, 0, 2, 0, 0)
    assert [f.status for f in again.files] == ["unchanged", "unchanged"]
    assert sorted(chunk_ids(run)) == ids and sorted(sentence_ids(run)) == sents
    assert first.chunks == len(ids)

    # The same files reached another way (a relative path, the file itself) are the same articles.
    monkeypatch.chdir(news.parent)
    third = run(Path("news"), Path("news/a.txt"))
    assert embedded.calls == 0 and third.unchanged == 2 and third.added == 0
    # Touched but not changed: read again, still nothing to embed.
    os.utime(news / "a.txt", None)
    fourth = run(news)
    assert embedded.calls == 0 and fourth.unchanged == 2 and fourth.added == fourth.updated == 0
    assert sorted(chunk_ids(run)) == ids


def test_stable_ids(run, news, embedded):
    run(news)
    ids = sorted(chunk_ids(run))
    a = read_file(news / "a.txt", news).articles[0]
    assert a.id == "a.txt"
    assert {i.split(":")[0] for i in ids} >= {a.content_hash[:16]}
    assert read_file(news / "a.txt", news).articles[0].content_hash == a.content_hash


def test_a_changed_article_replaces_its_chunks(run, news, embedded, embed_model):
    run(news)
    before = {c["id"]: c for c in stored(run)}
    old_a = {i for i, c in before.items() if c["article_id"] == "a.txt"}
    old_sentences = {s["id"] for s in stored(run, "sentence") if s["article_id"] == "a.txt"}
    embedded.reset()

    new_sentence = "बाढ़ राहत के लिए सेना बुलाई गई है।"
    (news / "a.txt").write_text("मानसून की पहली बारिश\n" + A_TEXT + " " + new_sentence, encoding="utf-8")
    report = run(news)
    assert report.updated == 1 and report.unchanged == 1 and report.added == 0
    assert 0 < embedded.texts == report.chunks + report.sentences  # only a.txt was embedded

    after = {c["id"]: c for c in stored(run)}
    new_a = {i for i, c in after.items() if c["article_id"] == "a.txt"}
    assert new_a and not (old_a & set(after))  # the old chunks are gone
    assert not old_sentences & set(sentence_ids(run))
    assert {i for i, c in after.items() if c["article_id"] == "b.txt"} == {
        i for i, c in before.items() if c["article_id"] == "b.txt"
    }
    # The new text is findable: by its words, by its meaning, and lexically.
    hits = stores_of(run).chunk_collection.get(where_document={"$contains": "सेना बुलाई"})
    assert hits["ids"] and set(hits["ids"]) <= new_a
    query = embed_model.embed_query("बाढ़ राहत के लिए किसे बुलाया गया?")
    top = stores_of(run).sentence_collection.query(query_embeddings=[query], n_results=1)
    assert top["documents"][0][0] == new_sentence
    assert lexical_ids(run) == set(after)


def test_changed_details_with_the_same_text_update_without_embedding(run, news, embedded):
    (news / "solar.md").write_text(MD_ARTICLE, encoding="utf-8")
    run(news)
    ids = sorted(chunk_ids(run))
    embedded.reset()
    edited = MD_ARTICLE.replace("date: 2023-09-14", "date: 2023-09-15").replace("Khabar Wire", "PTI")
    (news / "solar.md").write_text(edited, encoding="utf-8")
    report = run(news)
    assert embedded.calls == 0
    assert report.updated == 1 and report.unchanged == 2 and report.chunks == 0
    assert sorted(chunk_ids(run)) == ids
    for row in stored(run) + stored(run, "sentence"):
        if row["article_id"] == "solar.md":
            assert (row["source"], row["published"], row["published_day"]) == ("PTI", "2023-09-15", 20230915)
    with LexicalIndex(components.index_path(run.settings)) as idx:
        hits = idx.search("solar plant Jodhpur", 5)
    assert hits and hits[0][2]["source"] == "PTI"
    # Filters see the new date.
    dated = stores_of(run).chunk_collection.get(where={"published_day": {"$gte": 20230915}})
    assert dated["ids"] and all(i in ids for i in dated["ids"])


def test_the_same_text_under_two_names_is_stored_once(run, news, embedded):
    single = run(news)
    n_chunks, n_sentences = len(chunk_ids(run)), len(sentence_ids(run))
    embedded.reset()

    (news / "copy-of-a.txt").write_text((news / "a.txt").read_text(encoding="utf-8"), encoding="utf-8")
    report = run(news)
    assert embedded.calls == 0
    assert report.duplicates == 1 and report.added == 0
    notes = [n for f in report.files for n in f.notes]
    assert notes == ["copy-of-a.txt: same text as a.txt; stored once"]
    assert (len(chunk_ids(run)), len(sentence_ids(run))) == (n_chunks, n_sentences)
    assert single.chunks == n_chunks

    # The first name's file goes: the text stays, now cited as the copy.
    (news / "a.txt").unlink()
    pruned = run(news, prune=True)
    assert pruned.removed == 1 and embedded.calls == 0
    assert (len(chunk_ids(run)), len(sentence_ids(run))) == (n_chunks, n_sentences)
    ids_of = {c["article_id"] for c in stored(run)} | {s["article_id"] for s in stored(run, "sentence")}
    assert ids_of == {"copy-of-a.txt", "b.txt"}
    copy_path = str((news / "copy-of-a.txt").resolve())
    assert {c["path"] for c in stored(run) if c["article_id"] == "copy-of-a.txt"} == {copy_path}

    # Retrieval through llama-index rebuilds nodes from their stored JSON: that is relabelled too.
    from llama_index.core import VectorStoreIndex

    model = components.embedder(run.settings).llama_index_model
    index = VectorStoreIndex.from_vector_store(stores_of(run).chunks, embed_model=model)
    hits = index.as_retriever(similarity_top_k=10).retrieve("मानसून की बारिश")
    assert {h.node.metadata["article_id"] for h in hits} == {"copy-of-a.txt", "b.txt"}

    # Both copies gone: the text goes too.
    (news / "copy-of-a.txt").unlink()
    run(news, prune=True)
    assert {c["article_id"] for c in stored(run)} == {"b.txt"}
    assert {s["article_id"] for s in stored(run, "sentence")} == {"b.txt"}


def test_prune_removes_articles_whose_files_are_gone(run, news, embedded):
    run(news)
    b_ids = {c["id"] for c in stored(run) if c["article_id"] == "b.txt"}
    assert b_ids
    (news / "b.txt").unlink()
    embedded.reset()

    kept = run(news)  # without --prune nothing is removed
    assert kept.removed == 0 and b_ids <= set(chunk_ids(run))

    report = run(news, prune=True)
    assert report.removed == 1
    assert any(f.status == "removed" and f.path.endswith("b.txt") for f in report.files)
    assert {c["article_id"] for c in stored(run)} == {"a.txt"}
    assert {s["article_id"] for s in stored(run, "sentence")} == {"a.txt"}
    assert not b_ids & lexical_ids(run)
    assert embedded.calls == 0
    # Pruning again finds nothing more to do.
    assert run(news, prune=True).removed == 0


def test_a_record_gone_from_a_file_is_removed(run, tmp_path, embedded):
    feed = tmp_path / "feed"
    feed.mkdir()
    records = [
        {"id": "r1", "title": "Budget approved", "text": B_TEXT},
        {"id": "r2", "title": "क्रिकेट", "text": C_TEXT},
    ]
    path = feed / "items.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    run(feed)
    assert {c["article_id"] for c in stored(run)} == {"r1", "r2"}
    path.write_text(json.dumps(records[0], ensure_ascii=False), encoding="utf-8")
    embedded.reset()
    report = run(feed)
    assert report.removed == 1 and report.unchanged == 1 and embedded.calls == 0
    assert {c["article_id"] for c in stored(run)} == {"r1"}


def test_an_article_held_by_two_files_goes_only_with_the_last(run, tmp_path, embedded):
    """The same records in two files (two saved copies of a feed, a renamed JSON Lines file)."""
    feed = tmp_path / "feed"
    feed.mkdir()
    records = "\n".join(
        json.dumps(r, ensure_ascii=False)
        for r in (
            {"id": "r1", "title": "Budget approved", "text": B_TEXT},
            {"id": "r2", "title": "क्रिकेट", "text": C_TEXT},
        )
    )
    (feed / "monday.jsonl").write_text(records, encoding="utf-8")
    (feed / "tuesday.jsonl").write_text(records, encoding="utf-8")
    first = run(feed)
    assert first.added == 2 and first.unchanged == 2
    n_chunks = len(chunk_ids(run))
    embedded.reset()

    for gone in ("tuesday.jsonl", "monday.jsonl"):  # whichever copy goes first, the other keeps them
        (feed / gone).unlink()
        report = run(feed, prune=True)
        assert report.removed == 0 and len(chunk_ids(run)) == n_chunks, gone
        assert embedded.calls == 0
        (feed / gone).write_text(records, encoding="utf-8")
        run(feed)
    # Renamed: the articles stay; the metadata follows the file that now holds them.
    (feed / "monday.jsonl").rename(feed / "archive.jsonl")
    (feed / "tuesday.jsonl").unlink()
    run(feed, prune=True)
    again = run(feed)  # the re-read the prune asked for
    assert len(chunk_ids(run)) == n_chunks and embedded.calls == 0
    assert again.ok
    assert {c["path"] for c in stored(run)} == {str((feed / "archive.jsonl").resolve())}
    # The last copy goes: so do the articles.
    (feed / "archive.jsonl").unlink()
    assert run(feed, prune=True).removed == 2
    assert chunk_ids(run) == [] and sentence_ids(run) == [] and lexical_ids(run) == set()


def test_an_index_without_lexical_rows_gets_them_without_embedding(run, news, embedded):
    run(news)
    want = lexical_ids(run)
    with LexicalIndex(
        components.index_path(run.settings)
    ) as idx:  # as an index built before ingestion fed BM25
        for content_hash in {c["content_hash"] for c in stored(run)}:
            idx.delete(content_hash)
        assert idx.count() == 0
    embedded.reset()
    assert run(news).unchanged == 2
    assert lexical_ids(run) == want and embedded.calls == 0


# --- interruption -----------------------------------------------------------------------------


# Where the process dies: (class, method, which call); articles a, b, c are ingested in this order,
# and each writes the sentence collection, then the chunk collection, then the lexical index.
CRASH_POINTS = {
    # Each article embeds its chunks, then its sentences: call 3 is b's chunks.
    "embedding": (Embedder, "embed_passages", 3),  # b is being embedded (the runtime's class)
    "writing chunks": (ChromaVectorStore, "add", 4),  # b's sentences are in, its chunks are not
    "writing the lexical index": (LexicalIndex, "add", 2),  # b is in Chroma, not in BM25
}


# Every point in embedded mode; on a Chroma server (BM25 terms and manifest there too), the write
# that has no transaction around it there: the BM25 rows of an article half-stored in Chroma.
MODES_AND_CRASH_POINTS = [("embedded", where) for where in CRASH_POINTS]
MODES_AND_CRASH_POINTS.append(("http", "writing the lexical index"))


def crash_ingest(run: Runner, news: Path, monkeypatch, where: str) -> None:
    """One ``run(news)`` that dies at ``CRASH_POINTS[where]``, while b.txt is being stored."""
    cls, method, crash_at = CRASH_POINTS[where]
    if cls is Embedder:
        cls = type(components.embedder(run.settings))
    original = getattr(cls, method)
    calls = {"n": 0}

    def crash(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == crash_at:
            raise KeyboardInterrupt  # Ctrl-C, or the process killed: no clean-up code runs
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, crash)
    with pytest.raises(KeyboardInterrupt):
        run(news)
    monkeypatch.undo()  # the next run is a normal one


@pytest.mark.parametrize(("chroma_mode", "where"), MODES_AND_CRASH_POINTS, indirect=["chroma_mode"])
def test_an_interrupted_ingest_completes_on_the_next_run(run_any_mode, news, embed_model, monkeypatch, where):
    run = run_any_mode
    (news / "c.txt").write_text("क्रिकेट फाइनल\n" + C_TEXT, encoding="utf-8")
    articles = [a for f in sorted(news.iterdir()) for a in read_file(f, news).articles]
    want_chunks, want_sentences = expected_counts(embed_model, run.settings, articles)

    crash_ingest(run, news, monkeypatch, where)
    partial = set(chunk_ids(run))
    assert partial and partial < want_chunks
    b_prefix = next(a.content_hash[:16] for a in articles if a.id == "b.txt")
    half_written = {
        "embedding": False,
        "writing chunks": any(i.startswith(b_prefix) for i in sentence_ids(run)),
        "writing the lexical index": any(i.startswith(b_prefix) for i in partial),
    }
    assert half_written[where] == (where != "embedding")  # the crash left b half-written

    embedded_again = EmbedCounter()
    original_embed = type(embed_model).embed_passages

    def counting(self, texts):
        embedded_again.texts += len(texts)
        return original_embed(self, texts)

    monkeypatch.setattr(type(embed_model), "embed_passages", counting)
    report = run(news)
    assert report.ok
    got_chunks = chunk_ids(run)
    assert len(got_chunks) == len(set(got_chunks)) and set(got_chunks) == want_chunks
    assert len(sentence_ids(run)) == want_sentences
    assert lexical_ids(run) == want_chunks
    assert report.unchanged == 1 and report.added == 2  # the finished article is not redone
    assert embedded_again.texts == report.chunks + report.sentences
    # And a third run has nothing to do.
    assert run(news).unchanged == 3


@pytest.mark.parametrize(("chroma_mode", "where"), MODES_AND_CRASH_POINTS, indirect=["chroma_mode"])
def test_prune_removes_an_article_left_half_written_whose_file_is_gone(
    run_any_mode, news, embed_model, monkeypatch, where
):
    run = run_any_mode
    (news / "c.txt").write_text("क्रिकेट फाइनल\n" + C_TEXT, encoding="utf-8")
    (b,) = read_file(news / "b.txt", news).articles
    crash_ingest(run, news, monkeypatch, where)
    written_of_b = {
        "embedding": False,
        "writing chunks": any(s["content_hash"] == b.content_hash for s in stored(run, "sentence")),
        "writing the lexical index": any(c["content_hash"] == b.content_hash for c in stored(run)),
    }
    assert written_of_b[where] == (where != "embedding")

    (news / "b.txt").unlink()
    report = run(news, prune=True)
    assert report.ok and report.added == 1 and report.unchanged == 1  # c stored, a untouched
    assert {c["article_id"] for c in stored(run)} == {"a.txt", "c.txt"}
    assert {s["article_id"] for s in stored(run, "sentence")} == {"a.txt", "c.txt"}
    assert not any(i.startswith(b.content_hash[:16]) for i in chunk_ids(run) + sentence_ids(run))
    assert lexical_ids(run) == set(chunk_ids(run))
    notes = [n for f in report.files if f.status == "removed" for n in f.notes]
    assert notes == ["b.txt: removed what an interrupted run had written of it"]
    with components.open_index(run.settings) as index:  # nothing of it is found, either way
        assert index.manifest.content(b.content_hash) is None
        question = "What did the city council approve?"
        found = index.lexical_search(question, 10) + index.dense_search(embed_model.embed_query(question), 10)
        assert found and "b.txt" not in {p.article_id for p in found}
    # Nothing more to remove.
    assert not [f for f in run(news, prune=True).files if f.status == "removed"]


# --- verification -----------------------------------------------------------------------------


def test_verify_embeds_again_the_vectors_chroma_cannot_read(run, news, embedded, monkeypatch):
    """Two writers at once left rows whose vector Chroma could not read; which rows is Chroma's
    to say (``Index.unreadable_vectors``, tested in test_store.py), here they are named. Their
    text is embedded again exactly as ingestion embedded it: a chunk with its title."""
    run(news)
    (b,) = read_file(news / "b.txt", news).articles
    stores = stores_of(run)
    where = {"content_hash": b.content_hash}
    chunks = stores.chunk_collection.get(where=where, include=["embeddings"])
    sentences = stores.sentence_collection.get(where=where, include=["embeddings"])
    lost_chunks, lost_sentences = set(chunks["ids"]), set(sentences["ids"][:3])
    assert b.title not in " ".join(stores.chunk_collection.get(where=where)["documents"])  # title added
    for collection, ids in (
        (stores.chunk_collection, lost_chunks),
        (stores.sentence_collection, lost_sentences),
    ):
        collection.update(ids=sorted(ids), embeddings=[[0.05] * 384 for _ in ids])  # as good as lost
    monkeypatch.setattr(Index, "unreadable_vectors", lambda self, hashes: (lost_chunks, lost_sentences))
    embedded.reset()

    report = run(news, verify=True)
    assert [str(f) for f in report.verified.findings] == [
        f"b.txt: {len(lost_chunks) + len(lost_sentences)} vector(s) could not be read; embedded again"
    ]
    assert embedded.texts == len(lost_chunks) + len(lost_sentences) and report.unchanged == 2
    for collection, before in ((stores.chunk_collection, chunks), (stores.sentence_collection, sentences)):
        after = collection.get(ids=before["ids"], include=["embeddings"])
        assert after["ids"] == before["ids"]
        np.testing.assert_allclose(after["embeddings"], before["embeddings"], atol=2e-3)


def test_verify_finds_nothing_in_a_sound_index(run, news, embedded):
    (news / "solar.md").write_text(MD_ARTICLE, encoding="utf-8")
    (news / "copy-of-a.txt").write_text((news / "a.txt").read_text(encoding="utf-8"), encoding="utf-8")
    run(news)
    before = sorted(chunk_ids(run)), sorted(sentence_ids(run)), lexical_ids(run)
    embedded.reset()
    report = run(news, verify=True)
    assert report.verified.contents == 3 and report.verified.findings == []
    assert embedded.calls == 0 and report.unchanged == 4
    assert (sorted(chunk_ids(run)), sorted(sentence_ids(run)), lexical_ids(run)) == before


def test_verify_removes_an_articles_damaged_remains_until_its_file_is_read_again(run, news, embedded):
    run(news)
    (b,) = read_file(news / "b.txt", news).articles
    stores_of(run).chunk_collection.delete(ids=[f"{b.content_hash[:16]}:0"])  # one chunk lost
    report = run(verify=True)  # no paths: check only
    (finding,) = report.verified.findings
    assert finding.article == "b.txt" and finding.problem.startswith("1 of its ")
    path = str((news / "b.txt").resolve())
    assert finding.repair == f"removed; ingest {path} again to store it again"
    assert "b.txt" not in {c["article_id"] for c in stored(run)} | {
        s["article_id"] for s in stored(run, "sentence")
    }
    assert not any(i.startswith(b.content_hash[:16]) for i in lexical_ids(run))
    embedded.reset()
    again = run(news)  # the file is read again (its article is incomplete now) and stored again
    assert again.updated == 1 and again.unchanged == 1 and embedded.texts == again.chunks + again.sentences
    assert "b.txt" in {c["article_id"] for c in stored(run)}
    assert run(verify=True).verified.findings == []


# --- bad input --------------------------------------------------------------------------------

BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty.txt": (b"  \n", "empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary"),
    "latin1.txt": ("Café au lait. Über alles.".encode("latin-1"), "not UTF-8"),
    "broken.json": (b'{"id": "x", "title": "t", "text": "unterminated', "not valid JSON"),
    "broken.xml": (b"<rss><channel><item><title>cut", "not a well-formed feed"),
    "no-text.json": (json.dumps({"id": "nt", "title": "Only a title", "text": ""}).encode(), "text is empty"),
}


def test_bad_input_is_reported_and_the_rest_is_ingested(run, news, embedded):
    for name, (data, _) in BAD_FILES.items():
        (news / name).write_bytes(data)
    (news / "mixed.jsonl").write_text(
        json.dumps({"id": "good", "title": "क्रिकेट", "text": C_TEXT}, ensure_ascii=False) + "\n{not json\n",
        encoding="utf-8",
    )
    report = run(news)
    assert not report.ok
    by_file = {Path(p.path).name: p for p in report.problems}
    assert set(by_file) == {*BAD_FILES, "mixed.jsonl"}
    for name, (_, reason) in BAD_FILES.items():
        problem = by_file[name]
        assert reason in problem.reason, (name, problem.reason)
        assert problem.fix, name
        assert name in str(problem) and problem.fix in str(problem)
    assert by_file["mixed.jsonl"].record == "line 2"
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses["mixed.jsonl"] == "partial"
    assert all(statuses[name] == "skipped" for name in BAD_FILES)
    assert statuses["a.txt"] == statuses["b.txt"] == "ingested"

    # The good articles are stored; nothing at all of the failed ones.
    assert {c["article_id"] for c in stored(run)} == {"a.txt", "b.txt", "good"}
    assert {s["article_id"] for s in stored(run, "sentence")} == {"a.txt", "b.txt", "good"}
    stored_paths = {c["path"] for c in stored(run)}
    assert not {str((news / n).resolve()) for n in BAD_FILES} & stored_paths

    # Run again: the problems are reported again (exit status stays non-zero), nothing is re-embedded.
    embedded.reset()
    again = run(news)
    assert {Path(p.path).name for p in again.problems} == set(by_file)
    assert embedded.calls == 0 and again.unchanged == 3

    # Fix the files: the next run takes them in.
    (news / "no-text.json").write_text(json.dumps({"id": "nt", "title": "Now with text", "text": B_TEXT}))
    (news / "mixed.jsonl").write_text(
        json.dumps({"id": "good", "title": "क्रिकेट", "text": C_TEXT}, ensure_ascii=False), encoding="utf-8"
    )
    for name in ("empty.txt", "binary.txt", "latin1.txt", "broken.json", "broken.xml"):
        (news / name).unlink()
    fixed = run(news, prune=True)
    assert fixed.ok, fixed.problems
    assert {c["article_id"] for c in stored(run)} == {"a.txt", "b.txt", "good", "nt"}


def test_hostile_files_are_each_one_problem_and_the_run_goes_on(make_settings, tmp_path, news, monkeypatch):
    """Files that used to hang the run (a named pipe), fill the memory (a link to /dev/zero), leak
    a file from outside (a link to it), or end it with a traceback (JSON nested too deeply, a link
    loop, a folder that cannot be listed): each is one problem, every good article is stored."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nTop secret words of the outside file.\n")
    os.mkfifo(news / "pipe.txt")
    (news / "zero.txt").symlink_to("/dev/zero")
    (news / "passwd.txt").symlink_to(secret)
    (news / "loop.txt").symlink_to(news / "loop.txt")
    (news / "big.txt").write_text("Big story\n" + B_TEXT * 20, encoding="utf-8")
    (news / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    locked = news / "locked"
    locked.mkdir()
    (locked / "c.txt").write_text("क्रिकेट\n" + C_TEXT, encoding="utf-8")
    (news / "z").mkdir()
    (news / "z" / "md.md").write_text(MD_ARTICLE, encoding="utf-8")  # found after the bad ones
    real_scandir = os.scandir

    def scandir(path="."):  # tests run as root, where chmod 000 stops nothing
        if isinstance(path, str | os.PathLike) and Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    run = Runner(make_settings(max_file_bytes=2000))
    report = within(60, lambda: run(news))
    problems = {Path(p.path).name: p for p in report.problems}
    assert sorted(problems) == [
        "big.txt",
        "deep.json",
        "locked",
        "loop.txt",
        "passwd.txt",
        "pipe.txt",
        "zero.txt",
    ]
    assert len(report.problems) == len(problems)  # one line each
    assert "2,000 bytes" in problems["big.txt"].reason
    assert "named pipe" in problems["pipe.txt"].reason
    assert "a link to /dev/zero, outside the folder" in problems["zero.txt"].reason
    assert "outside the folder" in problems["passwd.txt"].reason
    assert all(p.fix for p in report.problems)
    assert {c["article_id"] for c in stored(run)} == {"a.txt", "b.txt", "z/md.md"}
    assert not any("secret" in c["text"] for c in stored(run))


def test_missing_and_unsupported_paths_are_reported(run, tmp_path, news):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    report = run(tmp_path / "nope", tmp_path / "notes.pdf", news)
    reasons = {Path(p.path).name: p.reason for p in report.problems}
    assert "no such file" in reasons["nope"]
    assert "not supported" in reasons["notes.pdf"]
    assert report.added == 2


def test_an_article_over_the_limit_is_refused_and_the_rest_of_its_file_stored(
    make_settings, tmp_path, monkeypatch
):
    feed = tmp_path / "feed"
    feed.mkdir()
    long_text = B_TEXT * 3
    records = [
        {"id": "short", "title": "क्रिकेट", "text": C_TEXT},
        {"id": "long", "title": "Budget approved", "text": long_text},
    ]
    (feed / "items.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8"
    )
    limit = len(C_TEXT)
    assert len(long_text) > limit
    monkeypatch.setenv("KHABAR_MAX_ARTICLE_CHARS", str(limit))
    run = Runner(make_settings())
    report = run(feed)
    [problem] = report.problems
    assert Path(problem.path).name == "items.jsonl" and problem.record == "long"
    assert f"'long' is {len(long_text):,} characters" in problem.reason
    assert f"limit of {limit:,} characters" in problem.reason
    assert "max_article_chars" in problem.fix and "KHABAR_MAX_ARTICLE_CHARS" in problem.fix
    assert [f.status for f in report.files] == ["partial"]
    assert report.added == 1
    assert {c["article_id"] for c in stored(run)} == {"short"}
    # With the limit raised, the next run stores it: the file was not recorded as done.
    run = Runner(make_settings(max_article_chars=len(long_text)))
    report = run(feed)
    assert report.ok and report.added == 1
    assert {c["article_id"] for c in stored(run)} == {"short", "long"}


def test_a_cancelled_run_keeps_whole_articles_and_the_next_run_finishes(
    make_settings, tmp_path, embedded, embed_model
):
    """``stop`` answers true once the first article is stored: nothing more is read, what was
    stored is whole, prune removes nothing, and the next run stores the rest (the web upload's
    cancel button)."""
    folder = tmp_path / "feed"
    folder.mkdir()
    records = [
        {"id": "a", "title": "Monsoon", "text": A_TEXT},
        {"id": "b", "title": "Budget", "text": B_TEXT},
        {"id": "c", "title": "Cricket", "text": C_TEXT},
    ]
    (folder / "all.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    (folder / "z.txt").write_text("Council passes budget\n" + B_TEXT + " Later text.", encoding="utf-8")
    run = Runner(make_settings())
    asked: list[int] = []

    def stop_after_one() -> bool:
        asked.append(1)
        return len(asked) > 2  # before the file, before article a, then stop before article b

    ingestor = components.ingestor(run.settings)
    try:
        first = ingestor.ingest([folder], prune=True, stop=stop_after_one)
    finally:
        ingestor.close()
    assert first.cancelled and first.added == 1
    [result] = first.files  # z.txt was never reached
    assert result.status == "partial" and result.notes == ["cancelled after 1 of 3 articles"]
    assert {c["article_id"] for c in stored(run)} == {"a"}
    a_chunks, a_sentences = expected_counts(
        embed_model, run.settings, read_file(folder / "all.jsonl", folder).articles[:1]
    )
    assert {c["id"] for c in stored(run)} == a_chunks and len(stored(run, "sentence")) == a_sentences

    second = run(folder, prune=True)
    assert not second.cancelled and second.ok
    assert second.added == 3 and second.unchanged == 1  # b, c and z.txt; a is already whole
    assert {c["article_id"] for c in stored(run)} == {"a", "b", "c", "z.txt"}


# --- batched writes ---------------------------------------------------------------------------


def _many_articles(tmp_path: Path) -> Path:
    """One JSONL file of seven stories, the fifth the same text as the second (stored once)."""
    texts = [
        f"Story {i}: the harbour authority reported {100 + i} ships in port this week. "
        f"Dock workers said the {i} new cranes would double the pace of unloading."
        for i in range(6)
    ]
    records = [{"id": f"n{i}", "title": f"Harbour story {i}", "text": t} for i, t in enumerate(texts)]
    records.insert(4, {"id": "copy-of-n1", "title": "Harbour story 1", "text": texts[1]})
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _state(run: Runner) -> tuple:
    with components.open_index(run.settings) as index:
        names = {n: index.manifest.content_of(n) for n in (*(f"n{i}" for i in range(6)), "copy-of-n1")}
    return set(chunk_ids(run)), set(sentence_ids(run)), lexical_ids(run), names


def test_one_files_articles_are_written_together_and_stored_as_written_one_by_one(
    make_settings, tmp_path, monkeypatch
):
    path = _many_articles(tmp_path)
    adds = {"n": 0}
    original = ChromaVectorStore.add

    def counted(self, nodes, **kwargs):
        adds["n"] += 1
        return original(self, nodes, **kwargs)

    monkeypatch.setattr(ChromaVectorStore, "add", counted)
    reports, states, calls = {}, {}, {}
    for batch in (1, 4):
        run = Runner(make_settings(index_name=f"batch{batch}", ingest_write_batch=batch))
        adds["n"] = 0
        reports[batch] = run(path)
        calls[batch] = adds["n"]
        states[batch] = _state(run)
        assert run(path).unchanged == 7  # a second run has nothing to do
    for batch in (1, 4):
        r = reports[batch]
        assert r.ok and (r.added, r.duplicates, r.updated) == (6, 1, 0), batch
    # The same rows and names either way (chunk and sentence ids are content-addressed).
    assert states[1] == states[4] and all(states[4][3].values())
    assert len(states[4][0]) >= 6
    # Six articles: twelve adds one by one (sentences, then chunks); in batches of four, the copy
    # of n1 writes the pending batch first (its text must be stored before it is found stored).
    assert calls[1] == 12 and calls[4] < calls[1]


def test_an_ingest_interrupted_while_writing_a_batch_names_none_of_it_and_completes_next_time(
    make_settings, tmp_path, monkeypatch
):
    path = _many_articles(tmp_path)
    run = Runner(make_settings(ingest_write_batch=4))

    def crash(self, nodes, **kwargs):
        raise KeyboardInterrupt  # the process dies as the first batch is written

    monkeypatch.setattr(ChromaVectorStore, "add", crash)
    with pytest.raises(KeyboardInterrupt):
        run(path)
    monkeypatch.undo()
    with components.open_index(run.settings) as index:
        # Nothing of the batch is named, so nothing points at a content that was not written.
        assert all(index.manifest.content_of(f"n{i}") is None for i in range(6))
    report = run(path)
    assert report.ok and (report.added, report.duplicates) == (6, 1)
    assert run(path).unchanged == 7
    assert lexical_ids(run) == set(chunk_ids(run)) and len(chunk_ids(run)) >= 6
