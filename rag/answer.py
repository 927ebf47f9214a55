"""Extractive answers: the sentences that best answer the question, quoted verbatim and cited.

This is the default backend and the fallback for any generated-answer backend added later;
an answerer takes the question and scored evidence and returns an ``Answer``.

Declining: the answer is withheld when the best sentence's evidence score (cosine similarity to
the question plus its term-overlap and passage-rank support, what the sentences are ranked by)
is below ``min_evidence_score``. The default is fitted on data, not picked by hand: see
``bench/abstention.py``, which asks the development questions once over a collection that holds
their gold article (answerable) and once with it taken out (unanswerable), plus off-topic
questions, and picks the threshold with the best F1 of declining among those that decline at
most 5 % of the answerable questions. (The score separated slightly better under that cap than
the bare cosine: decline recall 0.35 vs 0.25 at 4 % vs 3 % wrongly declined.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from rag.types import Answer, Citation, Evidence, Passage

DECLINE_TEXT = "I could not find anything in the collection that answers this question."


class Answerer(Protocol):
    def answer(self, question: str, evidence: list[Evidence], passages: list[Passage]) -> Answer: ...

    def stream(
        self, question: str, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        """Text deltas as they are produced, then the finished ``Answer``."""
        ...


def make_citation(marker: int, ev: Evidence) -> Citation:
    p = ev.passage
    return Citation(
        marker=marker,
        article_id=p.article_id,
        chunk_id=p.chunk_id,
        title=p.title,
        source=p.source,
        published=p.published,
        url=p.url,
        language=p.language,
        sentence=ev.text,
        start=ev.start,
        end=ev.end,
        passage=p.text,
        passage_start=p.start,
        passage_end=p.end,
        highlight=(ev.start - p.start, ev.end - p.start),
        score=round(ev.score, 4),
    )


class ExtractiveAnswerer:
    def __init__(self, max_sentences: int, min_score: float, margin: float):
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.margin = margin

    def select(self, evidence: list[Evidence]) -> list[Evidence]:
        if not evidence or evidence[0].score < self.min_score:
            return []
        floor = max(self.min_score, evidence[0].score - self.margin)
        chosen: list[Evidence] = []
        seen_text: set[str] = set()
        for ev in evidence:
            if len(chosen) == self.max_sentences or ev.score < floor:
                break
            key = " ".join(ev.text.split()).casefold()
            if key in seen_text:  # the same sentence in a syndicated copy adds nothing
                continue
            seen_text.add(key)
            chosen.append(ev)
        return chosen

    def answer(self, question: str, evidence: list[Evidence], passages: list[Passage]) -> Answer:
        chosen = self.select(evidence)
        confidence = round(evidence[0].score, 4) if evidence else None
        if not chosen:
            best = evidence[0].score if evidence else None
            reason = (
                "no passages matched the question and filters"
                if not passages
                else f"best sentence's evidence score {best:.3f} is below the threshold {self.min_score:.3f}"
                if best is not None
                else "the retrieved passages hold no sentences"
            )
            return Answer(
                question,
                DECLINE_TEXT,
                [],
                declined=True,
                reason=reason,
                passages=passages,
                confidence=confidence,
            )
        citations = [make_citation(i, ev) for i, ev in enumerate(chosen, start=1)]
        text = " ".join(f"{c.sentence} [{c.marker}]" for c in citations)
        return Answer(question, text, citations, declined=False, passages=passages, confidence=confidence)

    def stream(
        self, question: str, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        """Extractive answers are ready at once: one piece, then the answer."""
        answer = self.answer(question, evidence, passages)
        yield answer.text
        yield answer
