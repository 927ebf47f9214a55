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
from index.lexicon import Lexicon
from index.records import Passage
from index.store import Index
from rag.query import Query

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
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)  # the union's size, without building it


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
        # Jaccard is at most the smaller set's size over the larger's: most pairs are ruled out
        # by their sizes alone, before any intersection (this loop compares every pair of candidates).
        twin = next(
            (
                k
                for k, t in kept
                if k.article_id != p.article_id
                and min(len(terms), len(t)) >= threshold * max(len(terms), len(t))
                and jaccard(terms, t) >= threshold
            ),
            None,
        )
        if twin is not None:
            if p.article_id not in twin.also_in:
                twin.also_in.append(p.article_id)
            continue
        kept.append((p, terms))
    return [replace(p, rank=i) for i, (p, _) in enumerate(kept, start=1)]


class FoldDuplicates:
    """Passage step: syndicated copies folded (:func:`fold_duplicates`), then the first ``keep``.

    The retriever hands over twice as many candidates as are kept, so folding does not shrink
    the list the reranker sees."""

    def __init__(self, threshold: float, keep: int):
        self.threshold, self.keep = threshold, keep

    def process(self, query: Query, passages: list[Passage]) -> list[Passage]:
        return fold_duplicates(passages, self.threshold)[: self.keep]


class SpreadArticles:
    """Passage step: one article's passages past its first ``per_article`` move to the end."""

    def __init__(self, per_article: int):
        self.per_article = per_article

    def process(self, query: Query, passages: list[Passage]) -> list[Passage]:
        return spread_articles(passages, self.per_article)


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
    """Dense (Chroma) and BM25 rankings of the index, fused; each passage keeps BM25's support."""

    def __init__(
        self,
        index: Index,
        *,
        mode: RetrievalMode = "hybrid",
        fusion: FusionMethod = "rrf",
        dense_weight: float = 0.5,
        rrf_k: float = 60.0,
        depth: int = 50,
        weight_by_coverage: bool = True,
        bridge_names: bool = False,
        lexicon: Lexicon | None = None,
    ):
        self.index = index
        self.mode, self.fusion = mode, fusion
        self.dense_weight, self.rrf_k = dense_weight, rrf_k
        self.depth = depth
        self.weight_by_coverage = weight_by_coverage
        # Latin-script names of the question also search the Devanagari terms that share their
        # consonant skeleton ("Putin" -> पुतिन): BM25 otherwise sees nothing of an English
        # question over Hindi articles.
        self.bridge_names = bridge_names
        # The question's other Latin-script words also search their translations in a bilingual
        # word list ("satellite" -> उपग्रह): dictionary-based cross-language retrieval.
        self.lexicon = lexicon

    def bridged(self, text: str) -> dict[str, list[str]] | None:
        """The question's words that BM25 may search in another script, each with those index
        terms: names by skeleton, other words by translation (None when both are off)."""
        if not self.bridge_names and self.lexicon is None:
            return None
        found = self.index.bridge(text) if self.bridge_names else {}
        if self.lexicon is not None:
            for word, terms in self.index.translations(text, self.lexicon).items():
                found.setdefault(word, []).extend(terms)
        return found

    def lexical_weight(self, text: str, bridged: dict[str, list[str]] | None = None) -> float:
        """BM25's share of a hybrid fusion, scaled by how much of the question the index can read.

        English questions over Hindi articles keep only their names and numbers in the index, and
        fusing that thin BM25 ranking at full weight cost them hit@1 against dense retrieval alone
        (``bench/results/ablation.md``); Hindi questions keep nearly all their terms, so their
        fusion is unchanged.
        """
        weight = 1.0 - self.dense_weight
        if self.weight_by_coverage:
            weight *= self.index.coverage(text, bridged)
        return weight

    def retrieve(self, query: Query, candidates: int) -> list[Passage]:
        """Twice ``candidates`` fused passages: a margin for :class:`FoldDuplicates` to fold."""
        depth = max(self.depth, candidates)
        rankings: list[list[Passage]] = []
        weights: list[float] = []
        if self.mode in ("hybrid", "dense"):
            rankings.append(self.index.dense_search(query.search_vector, depth, query.filters))
            weights.append(self.dense_weight if self.mode == "hybrid" else 1.0)
        support: dict[str, float] = {}
        if self.mode in ("hybrid", "lexical"):
            bridged = self.bridged(query.search_text)
            lexical = self.index.lexical_search(query.search_text, depth, query.filters, bridged)
            weight = self.lexical_weight(query.search_text, bridged) if self.mode == "hybrid" else 1.0
            rankings.append(lexical)
            weights.append(weight)
            support = lexical_support(lexical, weight)
        if len(rankings) == 1:
            fused = rankings[0]
        elif self.fusion == "rrf":
            fused = rrf_fuse(rankings, weights, self.rrf_k)
        else:
            fused = weighted_fuse(rankings, weights)
        return [replace(p, lexical=support.get(p.chunk_id, 0.0)) for p in fused[: candidates * 2]]
