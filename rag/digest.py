"""Digest questions answered as a short dated timeline: the best sentence of each of the best few
stories, newest first, each cited with its date.

"What is the latest on the war in Ukraine?" asks for the news, not for one fact: the one or two
sentences a factoid answer quotes leave out every other story and say nothing of when. The
timeline takes the best-scored sentence of each article among the passages, groups the articles
into stories (:mod:`rag.stories`: a syndicated copy and a later report fold into one entry, which
quotes the newest report and keeps the first one's date), keeps the best ``articles`` stories and
lists them newest first (undated ones last). Each entry is date · headline — sentence [n].

With a language model connected, the same entries are the model's numbered passages, in the same
order, and it is asked for a short summary citing them (:func:`rag.prompts.digest_messages`); the
usual checks of :mod:`rag.generated` hold, and the timeline is the fallback.

Which questions are digests is decided once, when the question is prepared
(:mod:`rag.digest_question`, ``Query.digest``); other questions go to the wrapped answerer as if
this one were not there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from index.records import Passage
from rag.answer import DECLINE_TEXT, OVERRIDE_REASON, DeclineThresholds, make_citation
from rag.query import Query
from rag.stages import Answerer
from rag.stories import Stories, best_per_article, day_label, newest_first
from rag.types import Answer, Evidence

TIMELINE = "timeline"


def entry_line(marker: int, ev: Evidence) -> str:
    """One line of a timeline: date · headline — sentence [n], and when the story was first
    reported when an earlier report of it was folded in."""
    head = " · ".join(x for x in (day_label(ev.passage.published), ev.passage.title.strip()) if x)
    first = f" (first reported {day_label(ev.first_reported)})" if ev.first_reported else ""
    return f"{head} — {ev.text} [{marker}]{first}"


class TimelineAnswerer:
    """The timeline of a digest question, quoted from the articles (no model)."""

    def __init__(
        self,
        stories: Stories,
        articles: int,
        thresholds: DeclineThresholds,
        candidates: int = 0,
    ):
        """``articles``: most entries; ``thresholds``: evidence score a sentence needs to be an
        entry, by whether it is in the question's language (below it for every article, the
        question is declined); ``candidates``: articles grouped into stories before the best
        ``articles`` stories are kept (default: three per entry)."""
        self.stories = stories
        self.articles = articles
        self.thresholds = thresholds
        self.candidates = candidates or 3 * articles

    def threshold(self, query: Query, ev: Evidence) -> float:
        return self.thresholds.for_languages(query.language, ev.passage.language)

    def entries(
        self, query: Query, evidence: Sequence[Evidence], passages: Sequence[Passage]
    ) -> list[Evidence]:
        """The timeline's entries, newest first: per story, its newest report's best sentence, with
        the first report's date when that is older (only sentences of ``passages`` are quoted)."""
        given = {p.chunk_id for p in passages}
        usable = [e for e in evidence if e.passage.chunk_id in given and e.score >= self.threshold(query, e)]
        heads = best_per_article(usable)[: self.candidates]
        entries: list[Evidence] = []
        for story in self.stories.group(heads)[: self.articles]:
            ordered = newest_first(story)
            newest, oldest = ordered[0], next((e for e in reversed(ordered) if e.passage.published), None)
            earlier = ""
            if oldest is not None and day_label(oldest.passage.published) != day_label(
                newest.passage.published
            ):
                earlier = oldest.passage.published
            entries.append(replace(newest, first_reported=earlier))
        return newest_first(entries)

    def answer(self, query: Query, evidence: list[Evidence], passages: list[Passage]) -> Answer:
        best = max((e.score for e in evidence), default=None)
        confidence = round(best, 4) if best is not None else None
        entries = [] if query.overrides else self.entries(query, evidence, passages)
        if not entries:
            reason = (
                OVERRIDE_REASON
                if query.overrides
                else "no passages matched the question and filters"
                if not passages
                else f"no article's best sentence reaches the timeline's evidence score "
                f"{self.threshold(query, evidence[0]) if evidence else self.thresholds.same_language:.3f}"
                + (f" (the best is {best:.3f})" if best is not None else "")
            )
            return Answer(
                query.question,
                DECLINE_TEXT,
                [],
                declined=True,
                reason=reason,
                passages=passages,
                confidence=confidence,
                kind=TIMELINE,
            )
        citations = [make_citation(i, e, query) for i, e in enumerate(entries, start=1)]
        text = "\n".join(entry_line(i, e) for i, e in enumerate(entries, start=1))
        return Answer(
            query.question,
            text,
            citations,
            declined=False,
            passages=passages,
            confidence=confidence,
            kind=TIMELINE,
        )

    def stream(
        self, query: Query, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        answer = self.answer(query, evidence, passages)
        yield answer.text
        yield answer

    def standalone(self, question: str, history: Sequence[str]) -> str | None:
        return None


class DigestAnswerer:
    """Answerer: a digest question gets the timeline (written up by ``writer`` when one is given,
    with the timeline as its passages and its fallback); any other goes to ``answerer``."""

    def __init__(self, answerer: Answerer, timeline: TimelineAnswerer, writer: Answerer | None = None):
        self.answerer = answerer
        self.timeline = timeline
        self.writer = writer

    @property
    def llm(self) -> Any:
        """The wrapped answerer's language model (None without one): faces name it on answers."""
        return getattr(self.answerer, "llm", None)

    def answer(self, query: Query, evidence: list[Evidence], passages: list[Passage]) -> Answer:
        *_, final = self.stream(query, evidence, passages)
        assert isinstance(final, Answer)
        return final

    def stream(
        self, query: Query, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        if not query.digest:
            yield from self.answerer.stream(query, evidence, passages)
            return
        entries = self.timeline.entries(query, evidence, passages) if self.writer is not None else []
        if self.writer is None or not entries or query.overrides:
            yield from self.timeline.stream(query, evidence, passages)
            return
        # The model numbers the entries' passages as the timeline does: [1] is the newest story.
        given = [e.passage for e in entries]
        for piece in self.writer.stream(query, evidence, given):
            if isinstance(piece, Answer):
                if piece.answerer == "generated":
                    for c in piece.citations:
                        c.first_reported = entries[c.marker - 1].first_reported
                else:  # the model's summary was not shown: the full timeline, with the reason
                    quoted = self.timeline.answer(query, evidence, passages)
                    quoted.verification, quoted.usage = piece.verification, piece.usage
                    piece = quoted
                piece.kind = TIMELINE
                piece.passages = passages
            yield piece

    def standalone(self, question: str, history: Sequence[str]) -> str | None:
        return self.answerer.standalone(question, history)
