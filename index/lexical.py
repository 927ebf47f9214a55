"""The lexical half of hybrid retrieval: BM25 over chunk words, persisted beside the Chroma store.

Why a lexical retriever at all: the dense model is good at paraphrase but weak on rare exact
strings (names, numbers, transliterated places like "सैक्सन गार्डन"), and those are precisely what
news questions ask about. BM25 is the complement.

Why our own analyzer: BM25 libraries default to scikit-learn's token pattern
``(?u)\\b\\w\\w+\\b``. Python's ``\\w`` does not cover the Devanagari combining marks (matras,
virama, nukta, anusvara), so that pattern turns "प्रतिबंध" into the lone fragment "रत" and
"विदेश" or "हिंदी" into nothing at all (every piece is a single letter, below the two-character
minimum). What survives is fragments shared by unrelated words, so Hindi BM25 degrades badly.
:func:`analyze` reuses :func:`index.text.word_tokens` (the tokeniser the metrics use too) and removes
Hindi and English stop words, and
stems what is left (:func:`index.analysis.stem_term`).

Storage: per chunk, its content hash, analysed tokens, metadata and text, in a :class:`TermStore`
that every process serving the index sees: one SQLite file (stdlib ``sqlite3``) in the index's
side folder for an embedded Chroma (:class:`SqliteTerms`: an article's replacement is a single
transaction, and other processes on the machine see the change), or a Chroma collection on the
shared server in http mode (:mod:`index.side`). The BM25 matrix is built in memory from the
stored tokens on the first search after any change, detected by a change token (the generation)
that every write moves. Beside a local store the build is also saved for its generation, so that a
new process maps it instead of rebuilding (the rebuild grows with the collection); the rows stay
the truth, a saved build is a cache of one generation's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

import bm25s
import numpy as np

from index.analysis import analyze
from index.bridge import NameBridge, skeleton
from index.filters import matches
from index.lexicon import Lexicon, english_words
from index.records import CollectionStats, Passage, SearchFilters
from index.spec import code_fingerprint
from index.stopwords import STOPWORDS

__all__ = [
    "LexicalIndex",
    "LexicalResult",
    "SqliteTerms",
    "TermRow",
    "TermStore",
    "analyzer_fingerprint",
    "stats_of",
    "to_passages",
]

# (chunk_id, bm25 score, metadata, text), best first.
LexicalResult = tuple[str, float, dict[str, Any], str]

DB_FILE = "lexical.sqlite"
BUILD_DIR = "bm25"  # the built BM25 matrix of one generation (see LexicalIndex._ensure_built)
BUILD_ROWS = "rows.json"


def analyzer_fingerprint(index_titles: bool, stem: bool = True) -> str:
    """Identifies what produced the stored tokens, so a changed analyzer re-analyses old rows: its
    options, the stop words, and the code of the analyzer (a few seconds to redo, so any change
    to that code counts)."""
    h = hashlib.sha256(code_fingerprint(["index.analysis", "index.text"]).encode())
    h.update("\n".join(sorted(STOPWORDS)).encode())
    h.update(b"titles" if index_titles else b"no-titles")
    h.update(b"stemmed" if stem else b"unstemmed")
    return h.hexdigest()[:16]


# (chunk_id, content_hash, terms, metadata, text): one stored chunk. ``terms`` are the analysed
# terms joined by single spaces (terms hold no space); ``metadata`` is a JSON object.
TermRow = tuple[str, str, str, str, str]


class TermStore(Protocol):
    """Where a :class:`LexicalIndex` keeps its rows, shared by every process that opens it.

    The in-memory BM25 matrix is rebuilt from :meth:`snapshot` whenever :meth:`generation` (a
    change token every write moves) differs from the one it was built at; equal tokens mean
    nothing changed, so the token must be cheap to read.
    """

    # Where this process may save the built matrix for reuse by later processes (a local store's
    # folder), or None: a shared store's token is not a local file's, so nothing is saved.
    build_cache: Path | None

    def generation(self) -> Hashable: ...

    def analyzer(self) -> str | None: ...

    def replace(self, content_hash: str, rows: Sequence[TermRow]) -> None:
        """The content's rows become ``rows`` (a search never sees it half-replaced where the
        store allows), and the token moves."""
        ...

    def delete(self, content_hash: str) -> None: ...

    def touch(self) -> None:
        """Move the token without changing a row."""
        ...

    def rewrite_terms(self, fingerprint: str, terms: Callable[[str, dict[str, Any]], str]) -> None:
        """Every row's terms from ``terms(text, metadata)``, and ``fingerprint`` recorded as the analyzer."""
        ...

    def count(self) -> int: ...

    def chunk_ids_by_content(self) -> dict[str, set[str]]: ...

    def snapshot(self) -> tuple[Hashable, list[tuple[str, str, str]]]:
        """The token, then (chunk_id, terms, metadata JSON) of every row in a stable order: at least
        as new as the token (a change during the read shows as a newer token next time)."""
        ...

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]: ...

    def stats(self) -> CollectionStats | None:
        """Aggregates over the stored metadata, or None when the store has no cheap way to compute
        them (the index then counts over the rows it built from)."""
        ...

    def reading(self) -> AbstractContextManager[None]:
        """A consistent view for the reads inside, where the store can give one."""
        ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id     TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    tokens       TEXT NOT NULL,  -- analysed terms joined by single spaces (terms hold no space)
    metadata     TEXT NOT NULL,  -- JSON object
    text         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_content_hash ON chunks (content_hash);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
"""


class SqliteTerms:
    """The rows in one SQLite file in a folder (embedded mode): an article's replacement is one
    transaction, and other processes on the machine see a change through the generation row.

    Safe to share between threads (one lock around the connection).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.build_cache: Path | None = self.folder / BUILD_DIR
        self._lock = threading.RLock()
        self._depth = 0  # nested reading() blocks share one transaction
        # Autocommit mode: transactions are opened explicitly in _write/reading.
        self._conn = sqlite3.connect(
            self.folder / DB_FILE, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable enough, atomic
        self._conn.executescript(_SCHEMA)

    def generation(self) -> int:
        """One row read: cheap enough to check before every search."""
        with self._lock:
            return int(self._conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def analyzer(self) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'analyzer'").fetchone()
            return None if row is None else str(row[0])

    def replace(self, content_hash: str, rows: Sequence[TermRow]) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM chunks WHERE content_hash = ?", (content_hash,))
            conn.executemany(
                "INSERT OR REPLACE INTO chunks (chunk_id, content_hash, tokens, metadata, text) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def delete(self, content_hash: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM chunks WHERE content_hash = ?", (content_hash,))

    def touch(self) -> None:
        with self._write():
            pass

    def rewrite_terms(self, fingerprint: str, terms: Callable[[str, dict[str, Any]], str]) -> None:
        with self._write() as conn:
            rows = conn.execute("SELECT chunk_id, text, metadata FROM chunks").fetchall()
            conn.executemany(
                "UPDATE chunks SET tokens = ? WHERE chunk_id = ?",
                [(terms(text, json.loads(meta)), cid) for cid, text, meta in rows],
            )
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('analyzer', ?)", (fingerprint,))

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def chunk_ids_by_content(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self.reading():
            for content_hash, chunk_id in self._conn.execute("SELECT content_hash, chunk_id FROM chunks"):
                found.setdefault(content_hash, set()).add(chunk_id)
        return found

    def snapshot(self) -> tuple[int, list[tuple[str, str, str]]]:
        with self.reading():
            rows = self._conn.execute("SELECT chunk_id, tokens, metadata FROM chunks ORDER BY rowid")
            return self.generation(), rows.fetchall()

    def texts(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT chunk_id, text FROM chunks WHERE chunk_id IN ({marks})", list(chunk_ids)
            )
            return dict(rows.fetchall())

    def stats(self) -> CollectionStats:
        """SQL aggregates over the stored metadata, read from one chunk per article: every chunk
        carries its article's fields, and an article has several chunks."""
        field = "json_extract(metadata, '$.{}')".format
        day = f"substr({field('published')}, 1, 10)"
        with self.reading():
            conn = self._conn
            rows = conn.execute(
                f"SELECT {field('language')}, {field('source')}, {day} FROM chunks "
                "WHERE rowid IN (SELECT MIN(rowid) FROM chunks GROUP BY content_hash)"
            ).fetchall()
            articles, chunks = conn.execute(
                "SELECT COUNT(DISTINCT NULLIF(content_hash, '')), COUNT(*) FROM chunks"
            ).fetchone()
        days = [d for _, _, d in rows if isinstance(d, str) and _DAY.fullmatch(d)]
        return CollectionStats(
            languages=sorted({str(x) for x, _, _ in rows if x}),
            sources=sorted({str(x) for _, x, _ in rows if x}, key=str.casefold),
            first_date=min(days, default=""),
            last_date=max(days, default=""),
            articles=int(articles),
            chunks=int(chunks),
        )

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction: in WAL mode it sees a single snapshot from its first SELECT on,
        so the generation checked, the tokens rebuilt from and the texts fetched all agree."""
        with self._lock:
            if self._depth == 0:
                self._conn.execute("BEGIN")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that also bumps the generation (so searches rebuild)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def stats_of(metadata: Sequence[Mapping[str, Any]]) -> CollectionStats:
    """What :meth:`SqliteTerms.stats` aggregates, counted over metadata in memory."""
    days = [str(m.get("published") or "")[:10] for m in metadata]
    days = [d for d in days if _DAY.fullmatch(d)]
    return CollectionStats(
        languages=sorted({str(m.get("language")) for m in metadata if m.get("language")}),
        sources=sorted({str(m.get("source")) for m in metadata if m.get("source")}, key=str.casefold),
        first_date=min(days, default=""),
        last_date=max(days, default=""),
        articles=len({m.get("content_hash") for m in metadata if m.get("content_hash")}),
        chunks=len(metadata),
    )


class LexicalIndex:
    """BM25 over stored chunk tokens, with incremental, crash-safe updates per content hash.

    ``store`` is where the rows live: a folder (one SQLite file in it, :class:`SqliteTerms`) or
    any :class:`TermStore` (a Chroma collection in http mode, :mod:`index.side`). The analysis
    and the BM25 scoring are this class's, whatever the store: our analyzer decides the terms.

    ``k1`` and ``b`` are the usual BM25 parameters (term-frequency saturation and length
    normalisation). With ``index_titles`` a chunk's terms include its article's title (from the
    metadata) unless the chunk text already contains it, mirroring what the dense side embeds
    (``ingest.writer.chunk_embedding_text``); the stored text stays the chunk alone, so spans hold.
    ``stem`` false indexes surface forms (what the ablation compares stemming against).

    Safe to share between threads (one lock around the store and the in-memory index).
    """

    def __init__(
        self,
        store: Path | str | TermStore,
        k1: float = 1.5,
        b: float = 0.75,
        index_titles: bool = True,
        stem: bool = True,
    ):
        self.store: TermStore = SqliteTerms(Path(store)) if isinstance(store, str | Path) else store
        self.k1 = k1
        self.b = b
        self.index_titles = index_titles
        self.stem = stem
        self._lock = threading.RLock()
        # The in-memory BM25 index and what it was built from.
        self._bm25: bm25s.BM25 | None = None
        self._built_generation: Hashable | None = None
        self._chunk_ids: list[str] = []
        self._metadata: list[dict[str, Any]] = []
        # Devanagari vocabulary by consonant skeleton, built on first use per generation.
        self._by_skeleton: dict[str, list[str]] | None = None
        self._positions: dict[str, int] | None = None  # chunk id -> row, built on first use per build
        self._stats: tuple[Hashable, CollectionStats] | None = None  # by generation
        self._reanalyse_if_stale()

    # --- writing --------------------------------------------------------------------------

    def add(self, content_hash: str, chunks: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Store one article content's chunks, replacing whatever that content hash had before.

        The SQLite store makes the delete and the inserts one transaction, so a search (here or
        in another process) never sees the article half-replaced; the Chroma store writes the new
        rows before it removes the old ones left over.
        """
        rows = [
            (
                chunk_id,
                content_hash,
                " ".join(self._terms(text, metadata)),
                json.dumps(metadata, ensure_ascii=False, default=str),
                text,
            )
            for chunk_id, text, metadata in chunks
        ]
        with self._lock:
            self.store.replace(content_hash, rows)

    def delete(self, content_hash: str) -> None:
        """Remove every chunk of one article content (a no-op when there is none)."""
        with self._lock:
            self.store.delete(content_hash)

    # --- reading --------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return self.store.count()

    def generation(self) -> Hashable:
        """The change token every write moves, from any process or handle: cheap enough to check
        before every search."""
        with self._lock:
            return self.store.generation()

    def touch(self) -> None:
        """Move the generation without changing a row: says the index changed elsewhere (in Chroma)."""
        with self._lock:
            self.store.touch()

    def chunk_ids_by_content(self) -> dict[str, set[str]]:
        """content hash -> the chunk ids stored for it (for checking the index against Chroma)."""
        with self._lock:
            return self.store.chunk_ids_by_content()

    def coverage(self, query: str, bridged: Mapping[str, Sequence[str]] | None = None) -> float:
        """Share of the query's terms that occur somewhere in the index (0 for a query without terms);
        a term ``bridged`` to index terms (:meth:`bridge`) counts as occurring.

        BM25 can only speak for the terms it knows: an English question over Hindi articles keeps
        just its names and numbers, and a ranking built on those few words should weigh less.
        """
        terms = analyze(query, self.stem)
        if not terms:
            return 0.0
        bridged_words = {w for phrase in (bridged or {}) for w in analyze(phrase, self.stem)}
        with self._lock, self.store.reading():
            self._ensure_built()
            if self._bm25 is None:
                return 0.0
            vocabulary = self._bm25.vocab_dict
            return sum(term in vocabulary or term in bridged_words for term in terms) / len(terms)

    def bridge(self, query: str) -> dict[str, list[str]]:
        """Latin-script names of the query, each with the Devanagari index terms that share its
        consonant skeleton (:mod:`index.bridge`): "Putin" -> ["पुतिन"]. Names are transliterated,
        so an English question shares them with Hindi text although not one token matches."""
        names = NameBridge(query).skeletons()
        if not names:
            return {}
        with self._lock, self.store.reading():
            self._ensure_built()
            if self._bm25 is None:
                return {}
            if self._by_skeleton is None:
                by_skeleton: dict[str, list[str]] = {}
                for term in self._bm25.vocab_dict:
                    if not term.isascii() and (key := skeleton(term)):
                        by_skeleton.setdefault(key, []).append(term)
                self._by_skeleton = by_skeleton
            found: dict[str, list[str]] = {}
            for key, phrase in names.items():
                if key in self._by_skeleton:
                    found.setdefault(phrase, []).extend(self._by_skeleton[key])
            return found

    def translations(self, query: str, lexicon: Lexicon) -> dict[str, list[str]]:
        """Latin-script words of the query, each with the index terms of its translations in
        ``lexicon`` (:mod:`index.lexicon`): "satellite" -> ["उपग्रह"]; words whose translations
        the index never saw are left out. The same shape as :meth:`bridge`, so both are searched
        and counted alike."""
        words = dict.fromkeys(english_words(query))
        if not words:
            return {}
        with self._lock, self.store.reading():
            self._ensure_built()
            if self._bm25 is None:
                return {}
            vocabulary = self._bm25.vocab_dict
            found: dict[str, list[str]] = {}
            for word in words:
                terms = dict.fromkeys(
                    term
                    for translation in lexicon.translations(word)
                    for term in analyze(translation, self.stem)
                    if term in vocabulary
                )
                if terms:
                    found[word] = list(terms)
            return found

    def search(
        self,
        query: str,
        top_k: int,
        filters: SearchFilters | None = None,
        extra_terms: Sequence[str] = (),
    ) -> list[LexicalResult]:
        """The ``top_k`` chunks with the highest BM25 score for ``query`` that pass ``filters``.

        Every document is scored, and the filter is applied walking down the ranking, so a
        filtered-out document never takes one of the ``top_k`` places. Only chunks sharing at
        least one term with the query are returned (score > 0): a zero score carries no evidence
        and would only add noise to a fused ranking. A query with no terms left after analysis
        returns ``[]``. ``extra_terms`` (index terms, e.g. from :meth:`bridge`) are searched too.
        A hit whose row is gone from the store by the time its text is read (removed by another
        process meanwhile) is left out.
        """
        terms = analyze(query, self.stem) + list(extra_terms)
        if not terms or top_k <= 0:
            return []
        with self._lock, self.store.reading():
            self._ensure_built()
            if self._bm25 is None:
                return []
            term_ids = self._bm25.get_tokens_ids(terms)
            if not term_ids:
                return []
            scores = self._bm25.get_scores_from_ids(term_ids)
            candidates = np.flatnonzero(scores > 0)
            # Best first; ties broken by stored order so results are deterministic.
            order = candidates[np.argsort(-scores[candidates], kind="stable")]
            picked: list[tuple[int, float]] = []
            for doc in order:
                if matches(self._metadata[doc], filters):
                    picked.append((int(doc), float(scores[doc])))
                    if len(picked) == top_k:
                        break
            texts = self.store.texts([self._chunk_ids[doc] for doc, _ in picked])
            # Built while still holding the lock: another thread's rebuild swaps the lists.
            return [
                (self._chunk_ids[doc], score, dict(self._metadata[doc]), texts[self._chunk_ids[doc]])
                for doc, score in picked
                if self._chunk_ids[doc] in texts
            ]

    @property
    def loaded(self) -> bool:
        """Whether the index has been loaded (built or mapped) in this process."""
        return self._built_generation is not None

    def metadata_of(self, chunk_ids: Sequence[str]) -> list[dict[str, Any] | None] | None:
        """The stored metadata of these chunks, from the loaded index (None for a chunk it does
        not hold); None when the index was never loaded, so a dense-only service never loads it.

        Why: a filtered dense search checks hundreds of candidates against the filter, and
        reading their metadata from Chroma costs several times the vector search itself."""
        with self._lock, self.store.reading():
            if not self.loaded:
                return None
            self._ensure_built()
            if self._positions is None:
                self._positions = {chunk_id: row for row, chunk_id in enumerate(self._chunk_ids)}
            rows = [self._positions.get(chunk_id) for chunk_id in chunk_ids]
            return [None if row is None else self._metadata[row] for row in rows]

    def load(self) -> None:
        """Load (or build) the BM25 matrix now rather than on the first search: a service warming
        up while nothing waits on it (``khabar serve`` loads it beside Gradio's import)."""
        with self._lock, self.store.reading():
            self._ensure_built()

    def stats(self) -> CollectionStats:
        """Distinct languages and sources, the span of dated articles, and counts: from the store's
        aggregates, or counted over the rows the index was built from."""
        with self._lock:
            # Kept per generation: the header and filters ask after every upload and refresh, and
            # the aggregate reads every article's row.
            generation = self.store.generation()
            if self._stats is not None and self._stats[0] == generation:
                return self._stats[1]
            stats = self.store.stats()
            if stats is None:
                self._ensure_built()
                stats = stats_of(self._metadata)
            self._stats = (generation, stats)
            return stats

    def close(self) -> None:
        with self._lock:
            self.store.close()

    def __enter__(self) -> LexicalIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _terms(self, text: str, metadata: dict[str, Any]) -> list[str]:
        title = str(metadata.get("title") or "") if self.index_titles else ""
        if title and title not in text:
            return analyze(title, self.stem) + analyze(text, self.stem)
        return analyze(text, self.stem)

    def _ensure_built(self) -> None:
        generation = self.store.generation()
        if generation == self._built_generation:
            return
        if not self._load_build(generation):
            generation = self._build()
            self._save_build(generation)
        self._by_skeleton = None
        self._positions = None
        self._built_generation = generation

    def _build(self) -> Hashable:
        generation, rows = self.store.snapshot()
        chunk_ids: list[str] = []
        metadata: list[dict[str, Any]] = []
        corpus: list[list[str]] = []
        for chunk_id, tokens, meta in rows:
            chunk_ids.append(chunk_id)
            corpus.append(tokens.split(" ") if tokens else [])
            metadata.append(json.loads(meta))
        bm25: bm25s.BM25 | None = None
        if any(corpus):  # bm25s cannot index a corpus without a single term
            bm25 = bm25s.BM25(k1=self.k1, b=self.b)
            bm25.index(corpus, show_progress=False)
        self._bm25, self._chunk_ids, self._metadata = bm25, chunk_ids, metadata
        return generation

    # The built matrix is saved per generation beside a local store, so that a new process (a
    # restart, the CLI) maps it from disk instead of rebuilding it from every stored row: the
    # rebuild grows with the collection (bench/scale.py), loading does not. A saved build is only
    # read for the generation and settings it was built with; a missing or unreadable one is
    # rebuilt, so it can always be deleted. bm25s saves and maps the matrix; the rows beside it are ours.

    def _build_folder(self, generation: Hashable) -> Path | None:
        if self.store.build_cache is None:
            return None
        key = f"{analyzer_fingerprint(self.index_titles, self.stem)}|{self.k1}|{self.b}|{bm25s.__version__}"
        return self.store.build_cache / f"{generation}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def _load_build(self, generation: Hashable) -> bool:
        folder = self._build_folder(generation)
        if folder is None or not (folder / BUILD_ROWS).is_file():
            return False
        try:
            rows = json.loads((folder / BUILD_ROWS).read_text(encoding="utf-8"))
            bm25 = bm25s.BM25.load(folder, mmap=True, show_progress=False) if rows["indexed"] else None
            chunk_ids, metadata = rows["chunk_ids"], rows["metadata"]
        except (OSError, ValueError, KeyError):
            shutil.rmtree(folder, ignore_errors=True)  # damaged: rebuilt, and saved again
            return False
        self._bm25, self._chunk_ids, self._metadata = bm25, chunk_ids, metadata
        return True

    def _save_build(self, generation: Hashable) -> None:
        """Written under a temporary name, then renamed into place (another process sees a whole
        build or none); older builds are removed. Best effort: a failure means a later rebuild."""
        folder = self._build_folder(generation)
        if folder is None:
            return
        tmp = folder.parent / f".tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            if self._bm25 is not None:
                self._bm25.save(tmp, show_progress=False)
            rows = {
                "indexed": self._bm25 is not None,
                "chunk_ids": self._chunk_ids,
                "metadata": self._metadata,
            }
            (tmp / BUILD_ROWS).write_text(json.dumps(rows, ensure_ascii=False, default=str), encoding="utf-8")
            tmp.rename(folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        for old in folder.parent.iterdir():
            if old.name != folder.name and not old.name.startswith(".tmp-"):
                shutil.rmtree(old, ignore_errors=True)

    def _reanalyse_if_stale(self) -> None:
        """Re-derive stored tokens from stored text when the analyzer (stop words, title rule)
        changed since they were written: the index must not mix two analyzers."""
        fingerprint = analyzer_fingerprint(self.index_titles, self.stem)
        with self._lock:
            if self.store.analyzer() != fingerprint:
                self.store.rewrite_terms(fingerprint, lambda text, meta: " ".join(self._terms(text, meta)))


def to_passages(results: Sequence[LexicalResult]) -> list[Passage]:
    """Lexical hits as :class:`Passage` objects (score = BM25 score, rank 1..n), like the dense
    retriever returns, so fusion and the answerer treat both halves alike."""
    return [
        Passage.from_metadata(chunk_id, m, text, score, rank)
        for rank, (chunk_id, score, m, text) in enumerate(results, start=1)
    ]
