"""One index: the only handle the floors above use to write, search and read what is stored.

Behind it, three stores keyed by an article's content hash — the Chroma chunk collection (dense
retrieval), the Chroma sentence collection (evidence), the BM25 :class:`LexicalIndex` — with the
sentences answering reads kept beside them (:class:`SentenceRows`), and the ingestion
:class:`Manifest`. One call writes, deletes or relabels a content in all of them, and
no code above ``index/`` speaks Chroma, SQLite or llama-index nodes: so the stores can move
without touching ``ingest/`` or ``rag/``. With a ``chroma run`` server the BM25 terms and the
manifest move onto it too (:mod:`index.side`), so every app process sees all four; the sentence
rows are then a copy in each process's memory, filled from the server on first read.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.errors import ChromaError
from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores import VectorStoreQuery

from index.chroma import (
    ChromaConfig,
    chroma_client,
    drop_collections,
    open_stores,
    reopen_client,
    stored_index_names,
    validate_index_name,
)
from index.feeds import FeedStore
from index.filters import matches, to_metadata_filters
from index.lexical import LexicalIndex, to_passages
from index.lexicon import Lexicon
from index.lock import LOCK_FILE, write_lock
from index.manifest import Manifest
from index.records import Article, Chunk, CollectionStats, Passage, SearchFilters, Sentence, published_day
from index.side import open_feed_store, open_side

# The stored chunk metadata that describes the chunk (everything else is llama-index's bookkeeping).
CHUNK_KEYS = ("chunk_index", "start", "end")
SENTENCE_ROWS_FILE = "sentences.sqlite"


def sentence_id(content_hash: str, start: int, end: int) -> str:
    """A stored sentence's id. Start and end: clipped pieces of one overlong sentence can share a start."""
    return f"{content_hash[:16]}:s{start}-{end}"


def sentence_span(row_id: str) -> tuple[int, int]:
    """The (start, end) a :func:`sentence_id` was made from."""
    start, _, end = row_id.rpartition(":s")[2].partition("-")
    return int(start), int(end)


def article_metadata(article: Article) -> dict[str, Any]:
    """The article fields every stored chunk and sentence carries (filters and citations read them)."""
    return {
        "article_id": article.id,
        "title": article.title,
        "source": article.source,
        "category": article.category,
        "url": article.url,
        "published": article.published,
        "published_day": published_day(article.published),
        "language": article.language,
        "path": article.path,
        "content_hash": article.content_hash,
        # Where the stored text came from when it is not the article itself: "feed summary" for a
        # feed entry whose page could not be fetched (ingest.web.refresh); "" otherwise.
        "text_from": article.extra.get("from", ""),
    }


ARTICLE_KEYS = tuple(article_metadata(Article(id="", title="", text="")))


def chroma_similarity_to_cosine(similarity: float) -> float:
    """llama-index's Chroma store reports exp(-distance); cosine distance is 1 - cos."""
    return 1.0 + math.log(similarity) if similarity > 0 else -1.0


def _plain_depths(top_k: int, oversample: int) -> list[int]:
    """Depths of the plain searches tried before Chroma's filter: four times ``top_k``, then four
    times deeper, up to ``oversample`` times ``top_k`` (none when ``oversample`` is 1)."""
    depths, multiple = [], min(4, oversample)
    while 1 < multiple <= oversample:
        depths.append(top_k * multiple)
        multiple = oversample if multiple < oversample < multiple * 4 else multiple * 4
    return depths


def _passages(found: list[tuple[BaseNode, float]]) -> list[Passage]:
    """Passages ranked in the order found, scored by cosine."""
    return [
        Passage.from_metadata(
            node.node_id, node.metadata, node.get_content(), chroma_similarity_to_cosine(sim), rank
        )
        for rank, (node, sim) in enumerate(found, start=1)
    ]


@dataclass(frozen=True)
class ContentRows:
    """One article content's rows, embedded and ready to store (:meth:`Index.write_many`)."""

    article: Article
    chunks: Sequence[Chunk]
    chunk_vectors: Sequence[Sequence[float]]
    sentences: Sequence[Sentence]
    sentence_vectors: Sequence[Sequence[float]]


@dataclass
class StoredSentences:
    """Every stored sentence of one article content, in stored order, and their vectors."""

    rows: list[tuple[str, int, int]]  # (text, start, end): the span in the article
    vectors: list[Any]


@dataclass
class StoredRecords:
    """What the stores hold of one article content, without vectors: for checking it."""

    article_id: str = ""
    title: str = ""
    chunks: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # id -> (start, end, text)
    sentences: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    lexical: set[str] = field(default_factory=set)  # chunk ids with BM25 rows


@dataclass(frozen=True)
class StorageConfig:
    """Where an index lives: its Chroma and the folder of its side files (manifest, BM25)."""

    chroma: ChromaConfig
    data_dir: Path
    ef_search: int = 500
    filter_oversample: int = 64


@dataclass(frozen=True)
class LexicalConfig:
    """How the BM25 side analyses and scores (re-analysed on open when the analyzer changed)."""

    k1: float = 1.5
    b: float = 0.75
    stemming: bool = True
    index_titles: bool = True


def index_folder(data_dir: Path, name: str) -> Path:
    """Per-index side files (manifest, lexical index) beside the Chroma store."""
    return Path(data_dir) / "indexes" / validate_index_name(name)


def index_names(storage: StorageConfig) -> list[str]:
    """The indexes stored in this configuration's Chroma (the side files may live there too)."""
    return stored_index_names(chroma_client(storage.chroma))


class SentenceRows:
    """content hash -> its stored sentences (ids, texts and vectors, in written order): a side
    table beside the manifest, which answering reads instead of Chroma (:meth:`Index.sentences`).

    Why: the sentences are only ever read by content, never searched by vector, and Chroma serves
    neither well at scale: its metadata filter costs time in proportion to the whole sentence
    collection, and its first read of any vector loads every sentence vector into memory (at 100k
    chunks, over half a million vectors: seconds and most of a gigabyte, ``bench/scale.py``).
    A content hash names one text, whose sentences are written once with it; Chroma stays the
    store of record (``--verify`` checks it), and a content missing here (stored before the table
    existed) is read from Chroma once and recorded.
    """

    def __init__(self, path: Path | str):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sentences (content_hash TEXT PRIMARY KEY, ids TEXT NOT NULL, "
            "texts TEXT NOT NULL, vectors BLOB NOT NULL)"
        )

    def get(self, content_hashes: list[str]) -> dict[str, tuple[list[str], list[str], np.ndarray]]:
        """(ids, texts, one float32 vector a row) of each content recorded."""
        found: dict[str, tuple[list[str], list[str], np.ndarray]] = {}
        with self._lock:
            for i in range(0, len(content_hashes), 500):
                batch = content_hashes[i : i + 500]
                marks = ",".join("?" * len(batch))
                query = (
                    f"SELECT content_hash, ids, texts, vectors FROM sentences WHERE content_hash IN ({marks})"
                )
                for h, ids, texts, blob in self._db.execute(query, batch):
                    row_ids = json.loads(ids)
                    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(row_ids), -1) if row_ids else None
                    found[h] = (
                        row_ids,
                        json.loads(texts),
                        vectors if vectors is not None else np.zeros((0, 0)),
                    )
        return found

    def put(
        self, content_hash: str, ids: list[str], texts: list[str], vectors: Sequence[Sequence[float]]
    ) -> None:
        blob = np.asarray(vectors, dtype="<f4").tobytes() if ids else b""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO sentences VALUES (?, ?, ?, ?)",
                (content_hash, json.dumps(ids), json.dumps(texts, ensure_ascii=False), blob),
            )

    def delete(self, content_hashes: Sequence[str]) -> None:
        with self._lock:
            self._db.executemany(
                "DELETE FROM sentences WHERE content_hash = ?", [(h,) for h in content_hashes]
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Index:
    """The stored chunks, sentences, BM25 terms and manifest of one named index."""

    def __init__(self, name: str, storage: StorageConfig, lexical: LexicalConfig):
        self.name = validate_index_name(name)
        self.folder = index_folder(storage.data_dir, name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._storage = storage
        self._client = chroma_client(storage.chroma)
        terms, self._open_manifest = open_side(storage.chroma, self._client, self.name, self.folder)
        self._lexical = LexicalIndex(
            terms, k1=lexical.k1, b=lexical.b, index_titles=lexical.index_titles, stem=lexical.stemming
        )
        # Read before the collections are opened: every write reaches Chroma before it bumps the
        # generation, so what Chroma shows now includes at least every write counted here.
        self._seen_generation = self._lexical.generation()
        self._reopen_lock = threading.Lock()
        self._stores = open_stores(self._client, self.name, storage.ef_search)
        self._manifest: Manifest | None = None
        self._feeds: FeedStore | None = None
        # On a shared server nothing an answer needs may live in one data dir: the rows are then a
        # copy in this process's memory, filled from the server as articles are read.
        rows_at = ":memory:" if storage.chroma.mode == "http" else self.folder / SENTENCE_ROWS_FILE
        self._sentence_rows = SentenceRows(rows_at)

    @property
    def manifest(self) -> Manifest:
        """What has been ingested (files, names, contents); opened on first use."""
        if self._manifest is None:
            self._manifest = self._open_manifest()
        return self._manifest

    @property
    def feeds(self) -> FeedStore:
        """The feeds this index follows and their entries' state; opened on first use."""
        if self._feeds is None:
            self._feeds = open_feed_store(self._storage.chroma, self._client, self.name, self.folder)
        return self._feeds

    def close(self) -> None:
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None
        if self._feeds is not None:
            self._feeds.close()
            self._feeds = None
        self._sentence_rows.close()
        self._lexical.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- seeing other writers --------------------------------------------------------------

    def _refresh(self) -> None:
        """Reopen Chroma when the index was written since this handle last looked (by another
        process, or another handle in this one): an embedded Chroma client does not see vectors
        written elsewhere after it loaded them (see :func:`index.chroma.reopen_client`), while the
        BM25 side does; without this, a BM25 hit on a new chunk fails to read its vector.

        Checked before every read that searches or reads vectors: one SQLite row (or one small,
        briefly cached request to a Chroma server) when nothing changed. A handle's own writes count
        too, so a writer reopens before it next searches.
        """
        generation = self._lexical.generation()
        if generation != self._seen_generation:
            self._reopen(generation)

    def _reopen(self, generation: object) -> None:
        with self._reopen_lock:
            if generation == self._seen_generation:
                return  # another thread reopened meanwhile
            self._client = reopen_client(self._storage.chroma)
            self._stores = open_stores(self._client, self.name, self._storage.ef_search)
            self._seen_generation = generation

    # --- writing ----------------------------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        return self.folder / LOCK_FILE

    def writing(
        self, timeout: float, on_wait: Callable[[str], None] | None = None
    ) -> AbstractContextManager[None]:
        """The index's inter-process write lock (``index.lock``), for a whole run of writes.

        Taken by the writer around its run, not by each call below: a run reads the manifest,
        decides what to write and writes it, and another writer must not change the stores in
        between. Waits up to ``timeout`` seconds (``on_wait`` hears why), then raises
        :class:`index.lock.IndexBusy`.
        """
        return write_lock(self.lock_path, self.name, timeout, on_wait)

    def write(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        chunk_vectors: Sequence[Sequence[float]],
        sentences: Sequence[Sentence],
        sentence_vectors: Sequence[Sequence[float]],
    ) -> None:
        """Store one article content: its sentences (evidence), chunks and BM25 terms."""
        self.write_many([ContentRows(article, chunks, chunk_vectors, sentences, sentence_vectors)])

    def write_many(self, contents: Sequence[ContentRows]) -> None:
        """Store several article contents with one Chroma add for all their sentences and one
        for all their chunks: each add costs a synced transaction whatever its size, which made
        per-article adds a large share of an ingestion's time (``bench/ingest_speed.py``)."""
        sentence_nodes: list[BaseNode] = []
        chunk_nodes: list[list[BaseNode]] = []
        for c in contents:
            meta = article_metadata(c.article)
            h = c.article.content_hash
            source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=h)}
            sentence_nodes += [
                TextNode(
                    id_=sentence_id(h, s.start, s.end),
                    text=s.text,
                    embedding=list(vector),
                    metadata={**meta, "start": s.start, "end": s.end},
                    relationships=source,
                )
                for s, vector in zip(c.sentences, c.sentence_vectors, strict=True)
            ]
            chunk_nodes.append(
                [
                    TextNode(
                        id_=chunk.id,
                        text=chunk.text,
                        embedding=list(vector),
                        metadata={**meta, "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end},
                        relationships=source,
                        excluded_embed_metadata_keys=list(meta),
                        excluded_llm_metadata_keys=list(meta),
                    )
                    for chunk, vector in zip(c.chunks, c.chunk_vectors, strict=True)
                ]
            )
        # Sentences first, chunks last: a chunk is only findable once its evidence exists.
        if sentence_nodes:
            self._stores.sentences.add(sentence_nodes)
        for c in contents:
            h = c.article.content_hash
            self._sentence_rows.put(
                h,
                [sentence_id(h, s.start, s.end) for s in c.sentences],
                [s.text for s in c.sentences],
                c.sentence_vectors,
            )
        if any(chunk_nodes):
            self._stores.chunks.add([node for nodes in chunk_nodes for node in nodes])
        for c, nodes in zip(contents, chunk_nodes, strict=True):
            self._lexical.add(
                c.article.content_hash,
                [(node.node_id, node.get_content(), _described(node.metadata)) for node in nodes],
            )

    def delete(self, content_hash: str) -> None:
        """Remove one content from every store (a no-op where it is absent)."""
        self._stores.chunks.delete(ref_doc_id=content_hash)
        self._stores.sentences.delete(ref_doc_id=content_hash)
        self._sentence_rows.delete([content_hash])
        self._lexical.delete(content_hash)

    def stored_fields(self, content_hash: str) -> dict[str, Any] | None:
        """The article fields a stored content's chunks carry (None when it has no chunks)."""
        got = self._stores.chunk_collection.get(
            where={"content_hash": content_hash}, limit=1, include=["metadatas"]
        )
        if not got["ids"]:
            return None
        return {k: got["metadatas"][0].get(k) for k in ARTICLE_KEYS}

    def relabel(self, content_hash: str, fields: dict[str, Any]) -> None:
        """Change article fields of a stored content (no re-embedding: they are not embedded).

        Used when the article it is stored under is gone and another with the same text takes its
        place, and when an article's details (date, source, language...) change but not its text.
        """
        for collection in (self._stores.chunk_collection, self._stores.sentence_collection):
            got = collection.get(where={"content_hash": content_hash}, include=["metadatas"])
            if not got["ids"]:
                continue
            metadatas = []
            for meta in got["metadatas"]:
                meta = {**meta, **fields}
                if "_node_content" in meta:  # the node llama-index rebuilds on retrieval
                    node = json.loads(str(meta["_node_content"]))
                    node["metadata"] = {**node.get("metadata", {}), **fields}
                    meta["_node_content"] = json.dumps(node)
                metadatas.append(meta)
            collection.update(ids=got["ids"], metadatas=metadatas)
        self.fill_lexical([content_hash])

    def fill_lexical(self, content_hashes: list[str] | None = None) -> int:
        """(Re)write the BM25 side from the chunks stored in Chroma, without re-embedding: for
        ``content_hashes``, or for every stored content. Returns the chunks written."""
        where = {"content_hash": {"$in": content_hashes}} if content_hashes else None
        got = self._stores.chunk_collection.get(where=where, include=["metadatas", "documents"])
        by_hash: dict[str, list[tuple[int, tuple[str, str, dict[str, Any]]]]] = defaultdict(list)
        for chunk_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            described = _described(dict(meta))
            by_hash[str(meta["content_hash"])].append(
                (int(described.get("chunk_index", 0)), (chunk_id, text or "", described))
            )
        for content_hash, rows in by_hash.items():
            self._lexical.add(content_hash, [row for _, row in sorted(rows, key=lambda r: r[0])])
        return len(got["ids"])

    def lexical_needs_filling(self) -> bool:
        """An index built before ingestion fed the BM25 side has chunks but no terms."""
        return self._lexical.count() == 0 and self.count() > 0

    def replace_vectors(
        self, chunk_vectors: dict[str, Sequence[float]], sentence_vectors: dict[str, Sequence[float]]
    ) -> None:
        """Write new vectors for stored rows, with their text and metadata as they are.

        How rows whose vector Chroma lost are mended, before anything else touches them: deleting
        such a row can fail (in one damaged store it did, and so did every write after it, in
        every process), and an ``update`` of the vector alone leaves it unreadable; writing the
        whole row again (``upsert``) mends it.
        """
        for collection, vectors in (
            (self._stores.chunk_collection, chunk_vectors),
            (self._stores.sentence_collection, sentence_vectors),
        ):
            if not vectors:
                continue
            rows = collection.get(ids=list(vectors), include=["metadatas", "documents"])
            if collection is self._stores.sentence_collection:  # read from Chroma again, mended
                self._sentence_rows.delete(sorted({str(m.get("content_hash")) for m in rows["metadatas"]}))
            collection.upsert(
                ids=rows["ids"],
                embeddings=[list(vectors[row_id]) for row_id in rows["ids"]],
                metadatas=rows["metadatas"],
                documents=rows["documents"],
            )
        self._lexical.touch()  # other processes reopen Chroma to read the new vectors

    def drop(self) -> None:
        """Delete the whole index: collections and side files."""
        self.close()
        drop_collections(self._client, self.name)
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- reading ----------------------------------------------------------------------------

    def count(self) -> int:
        """Chunks stored."""
        return self._stores.chunk_collection.count()

    def dense_search(
        self, vector: Sequence[float], top_k: int, filters: SearchFilters | None = None
    ) -> list[Passage]:
        """The ``top_k`` chunks nearest to ``vector`` that pass ``filters``; score = cosine.

        A filtered search first keeps the passing chunks of plain searches up to
        ``filter_oversample`` times as deep (:func:`_plain_depths`): local Chroma evaluates a
        ``where`` clause over every chunk it matches before the vector search, so a broad filter (a
        year, a language, "or undated") cost seconds on a large collection while a plain search
        costs milliseconds, and no Chroma option plans this. When a plain search holds ``top_k``
        passing chunks, they are exactly the filtered search's first ``top_k`` (up to HNSW's
        approximation); when it holds the whole collection, every passing chunk. Otherwise the
        passing chunks are rare near the question, and Chroma's own filter answers (cheap when
        few chunks match).
        """
        self._refresh()
        if filters is not None and not filters.is_empty():
            for depth in _plain_depths(top_k, self._storage.filter_oversample):
                # Not loaded (a dense-only service): Chroma's metadata, without a wasted query first.
                tried = (
                    self._filtered_by_lexical_rows(vector, depth, top_k, filters)
                    if self._lexical.loaded
                    else None
                )
                if tried is not None:
                    done, passages = tried
                    if done:
                        return passages
                    continue
                plain = self._nearest(vector, depth, None)
                kept = [(node, sim) for node, sim in plain if matches(node.metadata, filters)]
                if len(kept) >= top_k or len(plain) < depth:
                    return _passages(kept[:top_k])
        return _passages(self._nearest(vector, top_k, filters))

    def _filtered_by_lexical_rows(
        self, vector: Sequence[float], depth: int, top_k: int, filters: SearchFilters
    ) -> tuple[bool, list[Passage]] | None:
        """One post-filtered plain search of ``depth`` that reads only ids and distances from
        Chroma, checks the filter against the metadata the loaded BM25 index holds for the same
        chunks, and reads texts and metadata for the ``top_k`` kept ones alone: Chroma's metadata of
        hundreds of candidates cost several times the search. (True, passages) when enough pass or
        the search held the whole collection; (False, []) when a deeper search is needed; None when
        this cannot tell (the BM25 index is not loaded or lacks a candidate: the caller reads
        Chroma's metadata instead)."""
        got = self._stores.chunk_collection.query(
            query_embeddings=[list(vector)], n_results=depth, include=["distances"]
        )
        ids, distances = got["ids"][0], got["distances"][0]
        known = self._lexical.metadata_of(ids)
        if known is None or any(m is None for m in known):
            return None
        kept = [(i, d) for i, d, m in zip(ids, distances, known, strict=True) if matches(m, filters)]
        if len(kept) < top_k and len(ids) == depth:
            return False, []
        kept = kept[:top_k]
        if not kept:
            return True, []
        rows = self._stores.chunk_collection.get(ids=[i for i, _ in kept], include=["metadatas", "documents"])
        stored = dict(zip(rows["ids"], zip(rows["metadatas"], rows["documents"], strict=True), strict=True))
        # Scored as the llama-index store scores (exp(-distance)), so both paths agree exactly.
        return True, [
            Passage.from_metadata(
                i, stored[i][0], stored[i][1] or "", chroma_similarity_to_cosine(math.exp(-d)), rank
            )
            for rank, (i, d) in enumerate(((i, d) for i, d in kept if i in stored), start=1)
        ]

    def _nearest(
        self, vector: Sequence[float], top_k: int, filters: SearchFilters | None
    ) -> list[tuple[BaseNode, float]]:
        result = self._stores.chunks.query(
            VectorStoreQuery(
                query_embedding=list(vector),
                similarity_top_k=top_k,
                filters=to_metadata_filters(filters),
            )
        )
        nodes = result.nodes or []
        similarities = result.similarities or [0.0] * len(nodes)
        return [(node, sim or 0.0) for node, sim in zip(nodes, similarities, strict=True)]

    def lexical_search(
        self,
        text: str,
        top_k: int,
        filters: SearchFilters | None = None,
        bridged: Mapping[str, Sequence[str]] | None = None,
    ) -> list[Passage]:
        """The ``top_k`` chunks with the best BM25 score for ``text`` and the index terms ``bridged``
        to its names (:meth:`bridge`); score = BM25 score.

        Only chunks Chroma holds: a BM25 row whose chunk Chroma lacks (left half-written, or
        written between the refresh and the search) is skipped, not passed on to fail later.
        """
        self._refresh()
        extra = [term for terms in (bridged or {}).values() for term in terms]
        results = self._lexical.search(text, top_k, filters, extra)
        if not results:
            return []
        stored = set(self._stores.chunk_collection.get(ids=[r[0] for r in results], include=[])["ids"])
        return to_passages([r for r in results if r[0] in stored])

    def coverage(self, text: str, bridged: Mapping[str, Sequence[str]] | None = None) -> float:
        """Share of the text's analysed terms that occur anywhere in the BM25 index (or are bridged)."""
        return self._lexical.coverage(text, bridged)

    def bridge(self, text: str) -> dict[str, list[str]]:
        """The text's Latin-script names, each with the Devanagari index terms of its skeleton."""
        self._refresh()
        return self._lexical.bridge(text)

    def translations(self, text: str, lexicon: Lexicon) -> dict[str, list[str]]:
        """The text's Latin-script words, each with the index terms of its translations."""
        self._refresh()
        return self._lexical.translations(text, lexicon)

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The stored vectors of these chunks (those that exist and can be read): their ids and one
        row each."""
        self._refresh()
        got = self._read_vectors("chunks", ["embeddings"], ids=list(chunk_ids))
        return list(got["ids"]), np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)

    def sentences(self, content_hashes: Sequence[str]) -> dict[str, StoredSentences]:
        """Every stored sentence (and vector) of these article contents, in written order: from the
        side table (:class:`SentenceRows`), and from Chroma for contents it does not hold yet."""
        found = {h: StoredSentences([], []) for h in content_hashes}
        if not found:
            return found
        self._refresh()
        known = self._sentence_rows.get(list(found))
        for h, (row_ids, texts, vectors) in known.items():
            group = found[h]
            group.rows.extend(
                (text, *sentence_span(row_id)) for row_id, text in zip(row_ids, texts, strict=True)
            )
            group.vectors.extend(vectors)
        missing = [h for h in found if h not in known]
        if missing:
            where = {"content_hash": {"$in": missing}}
            got = self._read_vectors("sentences", ["embeddings", "metadatas", "documents"], where=where)
            read: dict[str, list[tuple[str, str, Any]]] = {h: [] for h in missing}
            for row_id, text, meta, vector in zip(
                got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
            ):
                if str(meta["content_hash"]) in read:
                    read[str(meta["content_hash"])].append((row_id, text or "", vector))
            for h, rows in read.items():
                rows.sort(key=lambda row: sentence_span(row[0]))
                found[h].rows.extend((text, *sentence_span(row_id)) for row_id, text, _ in rows)
                found[h].vectors.extend(vector for _, _, vector in rows)
                if rows:  # none: not stored, or unreadable now; never recorded as empty
                    self._sentence_rows.put(
                        h, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
                    )
        return found

    def _read_vectors(self, kind: str, include: list[str], **query: Any) -> dict[str, Any]:
        """``get`` with vectors from the chunk or sentence collection. When Chroma cannot read a
        vector (written by another process since this client loaded them), Chroma is reopened if
        the index was written meanwhile and read again; rows still unreadable (a write not yet
        counted, a damaged store) are left out, never raised."""

        def collection() -> Any:
            return self._stores.chunk_collection if kind == "chunks" else self._stores.sentence_collection

        try:
            return collection().get(include=include, **query)
        except ChromaError:
            self._refresh()
        try:
            return collection().get(include=include, **query)
        except ChromaError:
            pass
        rows: dict[str, list[Any]] = {key: [] for key in ("ids", *include)}
        for row_id in collection().get(include=[], **query)["ids"]:
            try:
                one = collection().get(ids=[row_id], include=include)
            except ChromaError:
                continue
            for key, values in rows.items():
                values.extend(one[key])
        return rows

    # --- checking -----------------------------------------------------------------------------

    def survey(self, page: int = 5000) -> dict[str, StoredRecords]:
        """Every content hash that any store holds rows of, with what each store holds of it:
        ids, spans and texts, read page by page, no vectors (``khabar ingest --verify``)."""
        found: dict[str, StoredRecords] = defaultdict(StoredRecords)
        for collection, kind in (
            (self._stores.chunk_collection, "chunks"),
            (self._stores.sentence_collection, "sentences"),
        ):
            offset = 0
            while True:
                got = collection.get(include=["metadatas", "documents"], limit=page, offset=offset)
                for row_id, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                    records = found[str(meta.get("content_hash", ""))]
                    rows = records.chunks if kind == "chunks" else records.sentences
                    rows[row_id] = (int(meta.get("start", 0)), int(meta.get("end", 0)), text or "")
                    records.article_id = records.article_id or str(meta.get("article_id") or "")
                    records.title = records.title or str(meta.get("title") or "")
                if len(got["ids"]) < page:
                    break
                offset += page
        for content_hash, chunk_ids in self._lexical.chunk_ids_by_content().items():
            found[content_hash].lexical = chunk_ids
        return dict(found)

    def unreadable_vectors(self, content_hashes: Sequence[str], batch: int = 64) -> tuple[set[str], set[str]]:
        """The chunk and sentence ids of these contents whose row Chroma has but whose vector it
        cannot read ("Error getting embedding"): what two processes writing at once left behind.

        Contents are read a batch at a time; only a batch that fails is read again content by
        content, and only a content that fails row by row.
        """
        return (
            _unreadable(self._stores.chunk_collection, list(content_hashes), batch),
            _unreadable(self._stores.sentence_collection, list(content_hashes), batch),
        )

    def stats(self) -> CollectionStats:
        """Languages, sources, date span and size: an aggregate query, not a scan of every chunk."""
        return self._lexical.stats()

    def warm_up(self, dense: bool = True, lexical: bool = True) -> None:
        """Load now what the first question would load: Chroma's chunk vectors (its HNSW index, read
        from disk on the first read of a vector: seconds at 100k chunks), the collection's
        :meth:`stats` (kept per generation; the chat's filters read them) and the BM25 matrix.

        Reading one stored vector is what loads the HNSW index; no question vector is needed, so
        this can run while the model is still loading. An empty index loads nothing.
        """
        self._refresh()
        if dense:
            self._stores.chunk_collection.get(limit=1, include=["embeddings"])
        self.stats()
        if lexical:
            self._lexical.load()


def _unreadable(collection: Any, content_hashes: list[str], batch: int) -> set[str]:
    def readable(**query: Any) -> bool:
        try:
            collection.get(include=["embeddings"], **query)
        except ChromaError:
            return False
        return True

    lost: set[str] = set()
    for i in range(0, len(content_hashes), batch):
        group = content_hashes[i : i + batch]
        if readable(where={"content_hash": {"$in": group}}):
            continue
        for content_hash in group:
            if readable(where={"content_hash": content_hash}):
                continue
            ids = collection.get(where={"content_hash": content_hash}, include=[])["ids"]
            lost.update(row_id for row_id in ids if not readable(ids=[row_id]))
    return lost


def _described(metadata: dict[str, Any]) -> dict[str, Any]:
    """The article and chunk fields of a stored chunk's metadata."""
    keys = (*ARTICLE_KEYS, *CHUNK_KEYS)
    return {k: metadata[k] for k in keys if k in metadata}
