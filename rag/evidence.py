"""Sentences of the retrieved passages, scored against the question.

Sentence vectors were computed at ingestion and live in the index's sentence collection, so
answering costs one Chroma read and a dot product, never a re-embedding of the passages. The
same read serves the reranker (:mod:`rag.rerank`), which orders passages by their best sentence.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from index.analysis import analyze
from index.records import Passage
from khabar.store import Stores
from rag.types import Evidence

# Sentences with fewer content words than this are never quoted: footers split into ")" or
# "यहां क्लिक करें" fragments sit near every question in embedding space (seen on the dev sets).
MIN_SENTENCE_TERMS = 2


@lru_cache(maxsize=65536)
def quotable(sentence: str) -> bool:
    """Whether a sentence has enough content words to be quoted (cached: the same sentences come
    back question after question, and analysing ~700 of them per question showed in profiles)."""
    return len(analyze(sentence)) >= MIN_SENTENCE_TERMS


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content words that the sentence contains.

    Names in Latin script inside Hindi text, numbers and dates survive translation, so they tie
    an English question to a Hindi sentence where the embedding alone is unsure.
    """
    if not question_terms:
        return 0.0
    return len(question_terms & set(analyze(sentence))) / len(question_terms)


@dataclass(frozen=True)
class StoredSentence:
    """One sentence of the index with its cosine similarity to the question."""

    text: str
    content_hash: str
    start: int  # character span in the article
    end: int
    similarity: float


def holders(sentence: StoredSentence, by_content: dict[str, list[Passage]]) -> list[Passage]:
    """The passages (in the order given) whose span holds the sentence; overlapping chunks share some."""
    return [
        p
        for p in by_content.get(sentence.content_hash, [])
        if p.start <= sentence.start and sentence.end <= p.end
    ]


def by_content(passages: Sequence[Passage]) -> dict[str, list[Passage]]:
    """Passages grouped by article content, each group in the order given (rank order)."""
    groups: dict[str, list[Passage]] = {}
    for p in passages:
        groups.setdefault(p.content_hash, []).append(p)
    return groups


class ArticleSentences:
    """The quotable sentences of one article content and their vectors, as stored at ingestion."""

    def __init__(self, rows: list[tuple[str, int, int]], vectors: np.ndarray):
        self.rows = rows  # (text, start, end)
        self.vectors = vectors  # one row per sentence


class SentenceEvidence:
    """Scores the sentences of retrieved passages; reads them from Chroma once per article content.

    The read is cached by content hash: a hash names exactly one text, so its sentences never
    change (an edited article gets a new hash, and a deleted one is never retrieved again). The
    same articles come back question after question (a conversation, an evaluation), and the
    Chroma read with a metadata filter was the largest cost of a question after the embedding.
    """

    def __init__(
        self,
        stores: Stores,
        lexical_weight: float = 0.0,
        rank_weight: float = 0.0,
        cache_articles: int = 4096,
    ):
        self._collection = stores.sentence_collection
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight
        self._cache: OrderedDict[str, ArticleSentences] = OrderedDict()
        self._cache_size = cache_articles
        self._lock = threading.Lock()

    def articles(self, hashes: Sequence[str]) -> dict[str, ArticleSentences]:
        """The quotable sentences of each article content, from the cache or one Chroma read."""
        with self._lock:
            found = {h: self._cache[h] for h in hashes if h in self._cache}
            for h in found:
                self._cache.move_to_end(h)
        missing = sorted(set(hashes) - set(found))
        if missing:
            got = self._collection.get(
                where={"content_hash": {"$in": missing}}, include=["embeddings", "metadatas", "documents"]
            )
            grouped: dict[str, tuple[list[tuple[str, int, int]], list[Any]]] = {h: ([], []) for h in missing}
            for text, meta, vector in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True):
                # A stray ")" or a bare dateline is no answer, however close its vector.
                if quotable(text) and str(meta["content_hash"]) in grouped:
                    rows, vectors = grouped[str(meta["content_hash"])]
                    rows.append((text, int(meta["start"]), int(meta["end"])))
                    vectors.append(vector)
            fetched = {
                h: ArticleSentences(rows, np.asarray(vectors, dtype=np.float32).reshape(len(rows), -1))
                for h, (rows, vectors) in grouped.items()
            }
            with self._lock:
                self._cache.update(fetched)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            found.update(fetched)
        return found

    def sentences(self, query_embedding: list[float], passages: Sequence[Passage]) -> list[StoredSentence]:
        """Every quotable sentence of the passages' articles, with its similarity to the question."""
        query = np.asarray(query_embedding, dtype=np.float32)
        out: list[StoredSentence] = []
        for content_hash, article in self.articles(sorted({p.content_hash for p in passages})).items():
            if not article.rows:
                continue
            sims = (article.vectors @ query).tolist()
            out.extend(
                StoredSentence(text, content_hash, start, end, sim)
                for (text, start, end), sim in zip(article.rows, sims, strict=True)
            )
        return out

    def by_passage(
        self, query_embedding: list[float], passages: Sequence[Passage]
    ) -> dict[str, list[StoredSentence]]:
        """Each passage's quotable sentences (by chunk id, in article order), with their similarity
        to the question; a sentence in the overlap of two chunks belongs to both."""
        groups = by_content(passages)
        found: dict[str, list[StoredSentence]] = {p.chunk_id: [] for p in passages}
        for s in self.sentences(query_embedding, passages):
            for p in holders(s, groups):
                found[p.chunk_id].append(s)
        return found

    def score(
        self, query_embedding: list[float], passages: list[Passage], question: str = ""
    ) -> list[Evidence]:
        """The passages' sentences, best first."""
        if not passages:
            return []
        sentences = self.sentences(query_embedding, passages)
        groups = by_content(passages)
        question_terms = set(analyze(question)) if self.lexical_weight else set()
        evidence: list[Evidence] = []
        for s in sentences:
            # A sentence counts for the best-ranked retrieved passage that contains it.
            held_by = holders(s, groups)
            if not held_by:
                continue
            passage = held_by[0]
            score = s.similarity + self.rank_weight / passage.rank
            if question_terms:
                score += self.lexical_weight * term_overlap(question_terms, s.text)
            evidence.append(Evidence(s.text, s.start, s.end, s.similarity, score, passage))
        evidence.sort(key=lambda e: (-e.score, e.passage.rank, e.start))
        return evidence
