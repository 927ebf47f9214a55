"""Reorder fused candidates by how well their best sentence matches the question.

A chunk's vector averages several sentences; a question usually paraphrases one of them. On
xquad-hi-dev the five paragraphs of one Wikipedia article all sit close to a question about it,
and the passage holding the one matching sentence is the one to rank first. Both vectors were
stored at ingestion, so reranking costs two index reads and dot products, no model call.
BM25's support (``Passage.lexical``, set by :class:`rag.hybrid.HybridRetriever`) is added too:
rank fusion only decides which candidates reach the reranker, and ordering them by cosines alone
dropped the word matches that tell a Hindi question's paragraph from its siblings (ablation in
``bench/results/ablation.md``).

Why not a llama-index ``SentenceTransformerRerank``: that is a cross-encoder, a second model
downloaded from a hub at run time (not available here), and it would re-read every candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from index.records import Passage
from index.store import Index
from rag.evidence import SentenceEvidence
from rag.query import Query


class SentenceAwareReranker:
    """score = (1 - w) · cos(question, chunk) + w · max cos(question, sentence of the chunk)
    + λ · BM25 support (``Passage.lexical``)."""

    def __init__(
        self, index: Index, evidence: SentenceEvidence, sentence_weight: float, lexical_weight: float = 0.0
    ):
        self.index = index
        self.evidence = evidence
        self.sentence_weight = sentence_weight
        self.lexical_weight = lexical_weight

    def process(self, query: Query, passages: list[Passage]) -> list[Passage]:
        """The passages in their new order, ranks renumbered (the sentences read stay cached for
        evidence scoring, see :class:`rag.evidence.SentenceEvidence`). Scored against what was
        searched for (a follow-up together with the previous question)."""
        return self.rerank(query.search_vector, passages)

    def rerank(self, query_embedding: list[float], passages: Sequence[Passage]) -> list[Passage]:
        if not passages or (self.sentence_weight <= 0 and self.lexical_weight <= 0):
            return list(passages)
        query = np.asarray(query_embedding, dtype=np.float32)
        ids, vectors = self.index.chunk_vectors([p.chunk_id for p in passages])
        chunk_cos = dict(zip(ids, (vectors @ query).tolist(), strict=True))
        best = {
            chunk_id: max(s.similarity for s in sentences)
            for chunk_id, sentences in self.evidence.by_passage(query_embedding, passages).items()
            if sentences
        }
        w = self.sentence_weight
        scored = []
        for p in passages:
            dense = chunk_cos.get(p.chunk_id, 0.0)
            # A chunk without a quotable sentence (a table, a list of links) keeps its own cosine.
            score = (1 - w) * dense + w * best.get(p.chunk_id, dense) + self.lexical_weight * p.lexical
            scored.append((score, p.rank, p))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [replace(p, score=score, rank=i) for i, (score, _, p) in enumerate(scored, start=1)]
