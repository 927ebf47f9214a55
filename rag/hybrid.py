"""Dense + BM25 retrieval fused into one ranking, with syndicated copies folded together.

Fusion is written here rather than taken from llama-index's ``QueryFusionRetriever`` because
that class merges results by node *content hash* (the two stores rebuild nodes with different
metadata, so the same chunk would appear twice), fixes the RRF constant at 60 and ignores
retriever weights in RRF mode. Both fusions below key on the chunk id and are a few lines each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Literal

from index.analysis import analyze
from index.lexical import LexicalIndex, to_passages
from index.records import Passage, SearchFilters
from rag.retriever import DenseRetriever

RetrievalMode = Literal["hybrid", "dense", "lexical"]
FusionMethod = Literal["rrf", "weighted"]


def rrf_fuse(rankings: Sequence[Sequence[Passage]], weights: Sequence[float], k: float) -> list[Passage]:
    """Weighted reciprocal rank fusion: score = Σ wᵢ / (k + rankᵢ)."""
    scores: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, p in enumerate(ranking, start=1):
            scores[p.chunk_id] = scores.get(p.chunk_id, 0.0) + weight / (k + rank)
            first.setdefault(p.chunk_id, p)
    return _ordered(first, scores)


def weighted_fuse(rankings: Sequence[Sequence[Passage]], weights: Sequence[float]) -> list[Passage]:
    """Min-max normalised scores, weighted and summed (a chunk missing from a list adds 0)."""
    scores: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        values = [p.score for p in ranking]
        lo, hi = min(values), max(values)
        for p in ranking:
            norm = (p.score - lo) / (hi - lo) if hi > lo else 1.0
            scores[p.chunk_id] = scores.get(p.chunk_id, 0.0) + weight * norm
            first.setdefault(p.chunk_id, p)
    return _ordered(first, scores)


def _ordered(first: dict[str, Passage], scores: dict[str, float]) -> list[Passage]:
    ranked = sorted(scores, key=lambda cid: (-scores[cid], first[cid].rank))
    return [replace(first[cid], score=scores[cid], rank=i) for i, cid in enumerate(ranked, start=1)]


def lexical_support(ranking: Sequence[Passage], weight: float) -> dict[str, float]:
    """BM25 score relative to the question's best BM25 hit, times BM25's share of the fusion.

    Kept on each fused passage so the reranker can still weigh it: rank fusion only decides which
    candidates reach the reranker, and a reranker of cosines alone would throw away BM25's word
    matches, which is what finds a Hindi question's paragraph among its near-identical siblings.
    """
    best = max((p.score for p in ranking), default=0.0)
    if best <= 0:
        return {}
    return {p.chunk_id: weight * p.score / best for p in ranking}


@lru_cache(maxsize=16384)
def passage_terms(text: str) -> frozenset[str]:
    """Analysed word set of a passage (cached: the same passages are compared question after question)."""
    return frozenset(analyze(text))


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def fold_duplicates(passages: list[Passage], threshold: float) -> list[Passage]:
    """Keep the better-ranked copy of a syndicated story; name the others in ``also_in``.

    Two passages of *different* articles whose word sets overlap by at least ``threshold``
    (Jaccard over analysed terms) are the same story told twice.
    """
    if threshold >= 1.0:
        return passages
    kept: list[tuple[Passage, frozenset[str]]] = []
    for p in passages:
        terms = passage_terms(p.text)
        twin = next(
            (k for k, t in kept if k.article_id != p.article_id and jaccard(terms, t) >= threshold), None
        )
        if twin is not None:
            if p.article_id not in twin.also_in:
                twin.also_in.append(p.article_id)
            continue
        kept.append((p, terms))
    return [replace(p, rank=i) for i, (p, _) in enumerate(kept, start=1)]


def spread_articles(passages: list[Passage], per_article: int) -> list[Passage]:
    """Move an article's passages past its first ``per_article`` to the end of the list.

    One long article must not fill the top-k with six of its chunks (seen on the dev sets: a
    BBC report held six of the first ten places, pushing the answering paragraph out). Demoted
    passages are kept behind the others, in order, so the list never gets shorter. 0 = off.
    """
    if per_article <= 0:
        return passages
    seen: dict[str, int] = {}
    kept: list[Passage] = []
    demoted: list[Passage] = []
    for p in passages:
        seen[p.article_id] = seen.get(p.article_id, 0) + 1
        (kept if seen[p.article_id] <= per_article else demoted).append(p)
    return [replace(p, rank=i) for i, p in enumerate(kept + demoted, start=1)]


class HybridRetriever:
    def __init__(
        self,
        dense: DenseRetriever,
        lexical: LexicalIndex | None,
        *,
        mode: RetrievalMode = "hybrid",
        fusion: FusionMethod = "rrf",
        dense_weight: float = 0.5,
        rrf_k: float = 60.0,
        depth: int = 50,
        dedup_threshold: float = 0.6,
        weight_by_coverage: bool = True,
    ):
        if mode != "dense" and lexical is None:
            raise ValueError(f"retrieval mode {mode!r} needs the lexical index")
        self.dense, self.lexical = dense, lexical
        self.mode, self.fusion = mode, fusion
        self.dense_weight, self.rrf_k = dense_weight, rrf_k
        self.depth, self.dedup_threshold = depth, dedup_threshold
        self.weight_by_coverage = weight_by_coverage

    def lexical_weight(self, question: str) -> float:
        """BM25's share of a hybrid fusion, scaled by how much of the question the index can read.

        Measured on xquad-hi-dev (bench/ablation.py): English questions over Hindi articles keep
        ~11 % of their terms in the index (names, numbers), and fusing that thin BM25 ranking at
        full weight cost 12 points of hit@1 against dense retrieval alone; Hindi questions keep
        nearly all their terms, so their fusion is unchanged.
        """
        weight = 1.0 - self.dense_weight
        if self.weight_by_coverage and self.lexical is not None:
            weight *= self.lexical.coverage(question)
        return weight

    def retrieve(
        self, question: str, query_embedding: list[float], filters: SearchFilters | None, top_k: int
    ) -> list[Passage]:
        depth = max(self.depth, top_k)
        rankings: list[list[Passage]] = []
        weights: list[float] = []
        if self.mode in ("hybrid", "dense"):
            rankings.append(self.dense.retrieve(question, query_embedding, filters, top_k=depth))
            weights.append(self.dense_weight if self.mode == "hybrid" else 1.0)
        support: dict[str, float] = {}
        if self.mode in ("hybrid", "lexical") and self.lexical is not None:
            lexical = to_passages(self.lexical.search(question, depth, filters))
            weight = self.lexical_weight(question) if self.mode == "hybrid" else 1.0
            rankings.append(lexical)
            weights.append(weight)
            support = lexical_support(lexical, weight)
        if len(rankings) == 1:
            fused = rankings[0]
        elif self.fusion == "rrf":
            fused = rrf_fuse(rankings, weights, self.rrf_k)
        else:
            fused = weighted_fuse(rankings, weights)
        fused = [replace(p, lexical=support.get(p.chunk_id, 0.0)) for p in fused]
        # Fold duplicates over a margin of extra candidates, so folding does not shrink top_k.
        return fold_duplicates(fused[: top_k * 2], self.dedup_threshold)[:top_k]
