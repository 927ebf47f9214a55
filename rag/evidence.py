"""Sentences of the retrieved passages, scored against the question.

Sentence vectors were computed at ingestion and live in the index's sentence collection, so
answering costs one Chroma read and a dot product, never a re-embedding of the passages. The
same read serves the reranker (:mod:`rag.rerank`), which orders passages by their best sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from khabar.store import Stores
from rag.lexical import analyze
from rag.types import Evidence, Passage

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


def owner(sentence: StoredSentence, passages: Sequence[Passage]) -> Passage | None:
    """The best-ranked passage (of those given, in rank order) whose span contains the sentence."""
    return next(
        (
            p
            for p in passages
            if p.content_hash == sentence.content_hash and sentence.start >= p.start and sentence.end <= p.end
        ),
        None,
    )


class SentenceEvidence:
    def __init__(self, stores: Stores, lexical_weight: float = 0.0, rank_weight: float = 0.0):
        self._collection = stores.sentence_collection
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight

    def sentences(self, query_embedding: list[float], passages: Sequence[Passage]) -> list[StoredSentence]:
        """Every quotable sentence of the passages' articles, with its similarity to the question."""
        hashes = sorted({p.content_hash for p in passages})
        if not hashes:
            return []
        got = self._collection.get(
            where={"content_hash": {"$in": hashes}}, include=["embeddings", "metadatas", "documents"]
        )
        if not got["ids"]:
            return []
        sims = np.asarray(got["embeddings"], dtype=np.float32) @ np.asarray(query_embedding, dtype=np.float32)
        return [
            StoredSentence(text, str(meta["content_hash"]), int(meta["start"]), int(meta["end"]), float(sim))
            for text, meta, sim in zip(got["documents"], got["metadatas"], sims, strict=True)
            # A stray ")" or a bare dateline is no answer, however close its vector.
            if quotable(text)
        ]

    def score(
        self,
        query_embedding: list[float],
        passages: list[Passage],
        question: str = "",
        sentences: Sequence[StoredSentence] | None = None,
    ) -> list[Evidence]:
        """The passages' sentences, best first; ``sentences`` saves the read when already fetched."""
        if not passages:
            return []
        if sentences is None:
            sentences = self.sentences(query_embedding, passages)
        by_hash: dict[str, list[Passage]] = {}
        for p in passages:
            by_hash.setdefault(p.content_hash, []).append(p)
        question_terms = set(analyze(question)) if self.lexical_weight else set()
        evidence: list[Evidence] = []
        for s in sentences:
            # A sentence counts for the best-ranked retrieved passage that contains it.
            passage = owner(s, by_hash.get(s.content_hash, []))
            if passage is None:
                continue
            score = s.similarity + self.rank_weight / passage.rank
            if question_terms:
                score += self.lexical_weight * term_overlap(question_terms, s.text)
            evidence.append(Evidence(s.text, s.start, s.end, s.similarity, score, passage))
        evidence.sort(key=lambda e: (-e.score, e.passage.rank, e.start))
        return evidence
