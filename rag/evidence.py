"""Sentences of the retrieved passages, scored against the question.

Sentence vectors were computed at ingestion and live in the index's sentence collection, so
answering costs one Chroma read and a dot product, never a re-embedding of the passages.
"""

from __future__ import annotations

import numpy as np

from khabar.store import Stores
from rag.lexical import analyze
from rag.types import Evidence, Passage

# Sentences with fewer content words than this are never quoted: footers split into ")" or
# "यहां क्लिक करें" fragments sit near every question in embedding space (seen on the dev sets).
MIN_SENTENCE_TERMS = 2


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content words that the sentence contains.

    Names in Latin script inside Hindi text, numbers and dates survive translation, so they tie
    an English question to a Hindi sentence where the embedding alone is unsure.
    """
    if not question_terms:
        return 0.0
    return len(question_terms & set(analyze(sentence))) / len(question_terms)


class SentenceEvidence:
    def __init__(self, stores: Stores, lexical_weight: float = 0.0, rank_weight: float = 0.0):
        self._collection = stores.sentence_collection
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight

    def score(
        self, query_embedding: list[float], passages: list[Passage], question: str = ""
    ) -> list[Evidence]:
        if not passages:
            return []
        hashes = sorted({p.content_hash for p in passages})
        got = self._collection.get(
            where={"content_hash": {"$in": hashes}}, include=["embeddings", "metadatas", "documents"]
        )
        if not got["ids"]:
            return []
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        sims = vectors @ np.asarray(query_embedding, dtype=np.float32)
        by_hash: dict[str, list[Passage]] = {}
        for p in passages:
            by_hash.setdefault(p.content_hash, []).append(p)
        question_terms = set(analyze(question)) if self.lexical_weight else set()
        evidence: list[Evidence] = []
        for text, meta, sim in zip(got["documents"], got["metadatas"], sims, strict=True):
            if len(analyze(text)) < MIN_SENTENCE_TERMS:
                continue  # a stray ")" or a bare dateline is no answer, however close its vector
            start, end = int(meta["start"]), int(meta["end"])
            # A sentence counts for the best-ranked retrieved passage that contains it.
            owner = next(
                (p for p in by_hash.get(str(meta["content_hash"]), []) if start >= p.start and end <= p.end),
                None,
            )
            if owner is None:
                continue
            score = float(sim) + self.rank_weight / owner.rank
            if question_terms:
                score += self.lexical_weight * term_overlap(question_terms, text)
            evidence.append(Evidence(text, start, end, float(sim), score, owner))
        evidence.sort(key=lambda e: (-e.score, e.passage.rank, e.start))
        return evidence
