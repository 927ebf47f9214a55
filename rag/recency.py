"""Passage step for questions with time words: newer first for "latest", dated before undated.

The time frame itself is a filter (:mod:`rag.timeframe`, merged into ``Query.filters``), so the
retriever only ever sees articles dated inside a window, plus the undated ones when the undated
policy keeps them. What a filter cannot do is order: under "latest" or "recently" a newer report
should beat an older one of similar relevance, and under the "after" policy an article known to
be from the asked-for days should come before one whose date nobody knows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from index.records import Passage, published_day
from rag.query import Query
from rag.timeframe import TimeFrame, UndatedPolicy


def passage_date(passage: Passage) -> date | None:
    day = published_day(passage.published)
    if not day:
        return None
    try:
        return date(day // 10000, day // 100 % 100, day % 100)
    except ValueError:
        return None


class TimeOrder:
    """Passages dated after the question's "now" dropped (every question); then, under a time
    frame, score += ``weight`` · 0.5^(age in days / ``half_life_days``) for a dated passage of a
    "recent" question, and under the "after" policy undated passages after the dated ones.
    In the pipeline only when time-awareness is on."""

    def __init__(self, undated: UndatedPolicy, weight: float, half_life_days: float):
        self.undated = undated
        self.weight = weight
        self.half_life_days = half_life_days

    def process(self, query: Query, passages: list[Passage]) -> list[Passage]:
        if query.now is not None:
            today = query.now.date()
            kept = [p for p in passages if (passage_date(p) or today) <= today]
            if len(kept) < len(passages):
                passages = [replace(p, rank=i) for i, p in enumerate(kept, start=1)]
        frame = query.timeframe
        if frame is None or not passages:
            return passages
        scored = [(self.score(frame, p), p) for p in passages]
        after = self.undated == "after" and not query.widened
        scored.sort(key=lambda t: (after and passage_date(t[1]) is None, -t[0], t[1].rank))
        return [replace(p, score=score, rank=i) for i, (score, p) in enumerate(scored, start=1)]

    def score(self, frame: TimeFrame, passage: Passage) -> float:
        day = passage_date(passage)
        if frame.kind != "recent" or day is None or self.weight <= 0:
            return passage.score
        age = max(0, (frame.now - day).days)
        return passage.score + self.weight * 0.5 ** (age / self.half_life_days)


def time_note(query: Query, passages: list[Passage]) -> str:
    """What a reader should know about the dates behind an answer ("" when nothing): the
    window found nothing and was widened, or only undated articles answered it."""
    frame = query.timeframe
    if frame is None:
        return ""
    if query.widened:
        return f"No article is dated {frame.describe()}; answered from articles of any date up to now."
    if frame.kind == "window" and passages and all(passage_date(p) is None for p in passages):
        return f"No article dated {frame.describe()} was found; answered from undated articles."
    return ""
