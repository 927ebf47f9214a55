"""Word-by-word comparison of a question with near-tied passages and sentences, for
cross-lingual questions.

One vector per text is often unsure across languages: for an English question over Hindi text
the best few passages (sibling paragraphs of one story) and the best few sentences are frequently
within a hair of each other, and the one restating the question's topic wins over the one holding
the answer. BM25 settles such ties for a Hindi question; for an English one it has no words to
match. So the near-tied candidates are compared word by word instead: each question token's
best-matching token of the sentence, averaged (ColBERT's "MaxSim"), over token vectors from a
middle layer of the same encoder (:class:`index.embedding.TokenEncoder`). Middle layers of
multilingual encoders align words across languages best (SimAlign, Jalili Sabet et al. 2020,
found layer 8 of XLM-R best; multilingual-e5-small is XLM-R shaped).

Same-language questions are left alone: their term overlap already matches words. Passages are
settled before the top-k cut, so a tied passage just below it can move up. The cost is one
forward pass through the first layers for the question and each tied sentence not seen before
(cached), only on questions with a tie; the measured gains and costs are in
``bench/results/ablation.md`` and ``bench/results/latency.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from index.embedding import TokenEncoder
from index.records import Passage
from rag.answer import is_cross_lingual
from rag.evidence import SentenceEvidence
from rag.query import Query
from rag.types import Evidence

T = TypeVar("T", Passage, Evidence)


class WordAligner:
    """MaxSim between a question and sentences, from token vectors at one encoder layer."""

    def __init__(self, encoder: TokenEncoder):
        self.encoder = encoder

    def maxsim(self, question: str, sentences: Sequence[str]) -> list[float]:
        """For each sentence: the mean over question tokens of their best cosine to a sentence token."""
        if not sentences:
            return []
        # One batch for the question and every sentence not cached yet.
        q, *rows = self.encoder.vectors([("query", question)] + [("passage", s) for s in sentences])
        return [float((q @ s.T).max(axis=1).mean()) for s in rows]


class TieBreak:
    """Reorders the near-tied head of a cross-lingual question's list by word alignment.

    Only the order changes: each item's score stays what the other steps and the decline
    thresholds were fitted on.
    """

    def __init__(self, aligner: WordAligner | None, weight: float, margin: float, candidates: int):
        self.aligner = aligner
        self.weight, self.margin, self.candidates = weight, margin, candidates

    def active(self, query: Query, language: str) -> bool:
        return self.aligner is not None and self.weight > 0 and is_cross_lingual(query.language, language)

    @staticmethod
    def tied(scores: Sequence[float], margin: float, candidates: int) -> int:
        """How many of the first ``candidates`` scores (best first) are within ``margin`` of the first."""
        if not scores:
            return 0
        return sum(1 for s in scores[:candidates] if s >= scores[0] - margin)

    def settle(self, items: list[T], align: Callable[[list[T]], list[float]]) -> list[T]:
        """``items`` (best first) with their near-tied head reordered by score + weight x alignment
        (``align`` scores the head); the same list when nothing is tied."""
        n = self.tied([x.score for x in items], self.margin, self.candidates)
        if n < 2:
            return items
        head = items[:n]
        aligned = align(head)
        order = sorted(range(n), key=lambda i: (-(head[i].score + self.weight * aligned[i]), i))
        return [head[i] for i in order] + items[n:]


class PassageTieBreak(TieBreak):
    """Passage step: near-tied passages, each compared by its ``sentences_per_passage`` sentences
    closest to the question (by cosine), the best aligned of them counting."""

    def __init__(
        self,
        aligner: WordAligner | None,
        evidence: SentenceEvidence,
        weight: float,
        margin: float,
        candidates: int,
        sentences_per_passage: int = 1,
    ):
        super().__init__(aligner, weight, margin, candidates)
        self.evidence = evidence
        self.sentences_per_passage = sentences_per_passage

    def process(self, query: Query, passages: list[Passage]) -> list[Passage]:
        if not passages or not self.active(query, passages[0].language):
            return passages
        evidence, aligner = self.evidence, self.aligner
        assert aligner is not None

        def align(head: list[Passage]) -> list[float]:
            closest = [
                [s.text for s in sorted(sentences, key=lambda s: (-s.similarity, s.start))][
                    : self.sentences_per_passage
                ]
                for sentences in evidence.by_passage(query.vector, head).values()
            ]
            # One model pass for every passage's sentences, not one per passage.
            scores = iter(aligner.maxsim(query.text, [text for texts in closest for text in texts]))
            return [max((next(scores) for _ in texts), default=0.0) for texts in closest]

        ranked = self.settle(passages, align)
        if ranked is passages:
            return passages
        return [replace(p, rank=i) for i, p in enumerate(ranked, start=1)]


class SentenceTieBreak(TieBreak):
    """Evidence step: near-tied best sentences reordered by their alignment with the question."""

    def process(self, query: Query, evidence: list[Evidence]) -> list[Evidence]:
        if not evidence or not self.active(query, evidence[0].passage.language):
            return evidence
        aligner = self.aligner
        assert aligner is not None
        return self.settle(evidence, lambda head: aligner.maxsim(query.text, [e.text for e in head]))
