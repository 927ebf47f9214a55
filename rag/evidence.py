"""Sentences of the retrieved passages, scored against the question.

Sentence vectors were computed at ingestion and live in the index's sentence collection, so
answering costs one index read and a dot product, never a re-embedding of the passages. The
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
from index.store import Index
from rag.query import Query
from rag.types import Evidence


@lru_cache(maxsize=65536)
def content_terms(sentence: str) -> int:
    """How many content words a sentence has (cached: the same sentences come back question after
    question, and analysing ~700 of them per question showed in profiles)."""
    return len(analyze(sentence))


@lru_cache(maxsize=65536)
def sentence_terms(sentence: str) -> frozenset[str]:
    """A sentence's analysed content words, as a set (cached as :func:`content_terms` is)."""
    return frozenset(analyze(sentence))


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content words that the sentence contains.

    Names in Latin script inside Hindi text, numbers and dates survive translation, so they tie
    an English question to a Hindi sentence where the embedding alone is unsure.
    """
    if not question_terms:
        return 0.0
    return len(question_terms & sentence_terms(sentence)) / len(question_terms)


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


def _stack(vectors: list[Any]) -> np.ndarray:
    """One row per sentence vector. An article may have no quotable sentence at all (a two-word
    story, "India won.", has none long enough): its matrix is empty, and it is simply not quoted,
    so that it never stops the other retrieved articles being answered from."""
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)


class SentenceEvidence:
    """Scores the sentences of retrieved passages; reads them from the index once per article content.

    The read is cached by content hash: a hash names exactly one text, so its sentences never
    change (an edited article gets a new hash, and a deleted one is never retrieved again). The
    same articles come back question after question (a conversation, an evaluation), and the
    sentence read was the largest cost of a question after the embedding.
    """

    def __init__(
        self,
        index: Index,
        lexical_weight: float = 0.0,
        rank_weight: float = 0.0,
        min_sentence_terms: int = 2,
        cache_articles: int = 4096,
    ):
        self.index = index
        # Sentences with fewer content words are never quoted: footers split into ")" or
        # "यहां क्लिक करें" fragments sit near every question in embedding space.
        self.min_sentence_terms = min_sentence_terms
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight
        self._cache: OrderedDict[str, ArticleSentences] = OrderedDict()
        self._cache_size = cache_articles
        self._lock = threading.Lock()

    def articles(self, hashes: Sequence[str]) -> dict[str, ArticleSentences]:
        """The quotable sentences of each article content, from the cache or one index read."""
        with self._lock:
            found = {h: self._cache[h] for h in hashes if h in self._cache}
            for h in found:
                self._cache.move_to_end(h)
        missing = sorted(set(hashes) - set(found))
        if missing:
            grouped: dict[str, tuple[list[tuple[str, int, int]], list[Any]]] = {h: ([], []) for h in missing}
            for h, stored in self.index.sentences(missing).items():
                rows, vectors = grouped[h]
                for row, vector in zip(stored.rows, stored.vectors, strict=True):
                    # A stray ")" or a bare dateline is no answer, however close its vector.
                    if content_terms(row[0]) >= self.min_sentence_terms:
                        rows.append(row)
                        vectors.append(vector)
            fetched = {h: ArticleSentences(rows, _stack(vectors)) for h, (rows, vectors) in grouped.items()}
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

    def score(self, query: Query, passages: list[Passage]) -> list[Evidence]:
        """The passages' sentences, best first."""
        if not passages:
            return []
        sentences = self.sentences(query.vector, passages)
        groups = by_content(passages)
        question_terms = set(query.terms) if self.lexical_weight else set()
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
