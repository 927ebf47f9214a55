"""Hand-made retrieval results for tests that need no model and no store, and small test helpers."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.analysis import analyze
from index.records import Passage
from index.store import StoredSentences
from rag.query import Query

T = TypeVar("T")


def make_passage(article_id: str, text: str, rank: int, **fields: Any) -> Passage:
    """A passage of ``article_id`` covering ``text`` from offset 0; ``fields`` override the rest."""
    values: dict[str, Any] = {
        "chunk_id": f"{article_id}:{rank}",
        "article_id": article_id,
        "content_hash": article_id,
        "title": "",
        "source": "",
        "url": "",
        "published": "",
        "language": "en",
        "text": text,
        "start": 0,
        "end": len(text),
        "score": 0.9,
        "rank": rank,
        **fields,
    }
    return Passage(**values)


def make_query(text: str, language: str = "en", vector: Sequence[float] = (0.0,), **fields: Any) -> Query:
    """A prepared question without a model: ``vector`` stands for its embedding."""
    values: dict[str, Any] = {
        "text": text,
        "language": language,
        "vector": list(vector),
        "search_text": text,
        "search_vector": list(vector),
        "terms": frozenset(analyze(text)),
        **fields,
    }
    return Query(**values)


class FakeIndex:
    """Stands in for :class:`index.store.Index` where only stored vectors and sentences matter.

    ``sentences``: content hash -> [(text, start, end, vector)]; ``chunks``: chunk id -> vector.
    Records which contents were read, so tests can check caching.
    """

    def __init__(
        self,
        sentences: dict[str, list[tuple[str, int, int, list[float]]]] | None = None,
        chunks: dict[str, list[float]] | None = None,
        coverage: float = 1.0,
    ):
        self._sentences = sentences or {}
        self._chunks = chunks or {}
        self._coverage = coverage
        self.sentence_reads: list[list[str]] = []

    def sentences(self, content_hashes: Sequence[str]) -> dict[str, StoredSentences]:
        self.sentence_reads.append(list(content_hashes))
        return {
            h: StoredSentences(
                [(t, s, e) for t, s, e, _ in self._sentences.get(h, [])],
                [v for *_, v in self._sentences.get(h, [])],
            )
            for h in content_hashes
        }

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        ids = [i for i in chunk_ids if i in self._chunks]
        return ids, np.asarray([self._chunks[i] for i in ids], dtype=np.float32)

    def coverage(self, text: str, bridged=None) -> float:
        return self._coverage


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result (or its exception), failing the test when it does not return in time:
    a read that blocks on a named pipe would otherwise hang the suite."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def with_corpus(settings: Any) -> Any:
    """``settings`` after the shipped corpus is ingested into its data dir with the real ingestor."""
    from khabar import components

    ingestor = components.ingestor(settings)
    try:
        assert ingestor.ingest([CORPUS]).ok
    finally:
        ingestor.close()
    return settings


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """End a server a test started: politely, then for sure, never waiting unbounded."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
