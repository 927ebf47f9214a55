"""Extractive answers: the sentences that best answer the question, quoted verbatim and cited.

This is the default answerer and the fallback of the generated one (:mod:`rag.generated`);
an answerer takes the question and scored evidence and returns an ``Answer``.

Declining: the answer is withheld when the best sentence's evidence score (cosine similarity to
the question plus its term-overlap and passage-rank support, what the sentences are ranked by)
is below ``min_evidence_score``. The default is fitted on data, not picked by hand: see
``bench/abstention.py``, which asks the development questions once over a collection that holds
their gold article (answerable) and once with it taken out (unanswerable), plus off-topic
questions, and picks the threshold with the best F1 of declining among those that decline only a
small capped share of the answerable questions. (The score separated better under such a cap
than the bare cosine.)

Cross-lingual questions get their own threshold (``DeclineThresholds.cross_lingual``): an English
question's cosine to the Hindi sentence that answers it runs lower than a Hindi question's, so
one threshold for both declined answerable English questions far more often than Hindi ones.
Both thresholds come from the same fit, one per kind of pair (figures:
``bench/results/abstention.json``). A question whose names the best sentence's passage never
mentions needs ``name_margin`` more (:mod:`rag.names`, fitted by ``bench/name_margin.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from index.records import Passage
from rag.answer_type import AnswerType, expected_type, supports
from rag.explain import shared_terms
from rag.names import unmentioned_names
from rag.query import Query
from rag.types import Answer, Citation, Evidence

DECLINE_TEXT = "I could not find anything in the collection that answers this question."
OVERRIDE_REASON = (
    "the question asks to set aside the instructions or the articles; Khabar only answers from the articles"
)


def is_cross_lingual(question_language: str, passage_language: str) -> bool:
    """Whether the question and the passage are known to be in different languages (unknown = no)."""
    return bool(question_language and passage_language and question_language != passage_language)


@dataclass(frozen=True)
class DeclineThresholds:
    """The evidence score a quoted sentence needs, by whether it is in the question's language.

    One record and one rule for every answerer that declines on the evidence score (the
    extractive answer, the digest timeline), so the choice between the two thresholds cannot
    drift apart between them; each answerer gets its own values (from its settings)."""

    same_language: float
    cross_lingual: float  # lower: cosines across languages run lower

    def for_languages(self, question_language: str, passage_language: str) -> float:
        """The threshold for a sentence in ``passage_language`` answering a question in
        ``question_language`` (an unknown language counts as the same)."""
        if is_cross_lingual(question_language, passage_language):
            return self.cross_lingual
        return self.same_language


def make_citation(marker: int, ev: Evidence, question: Query | None = None) -> Citation:
    """The citation of a quoted sentence; with ``question``, a sentence quoted across languages
    also carries what it shares with the question (:func:`rag.explain.shared_terms`)."""
    p = ev.passage
    cross = question is not None and is_cross_lingual(question.language, p.language)
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
        matches=shared_terms(question.text, ev.text, question.translations)
        if question is not None and cross
        else [],
        first_reported=ev.first_reported,
        text_from=p.text_from,
    )


class ExtractiveAnswerer:
    def __init__(
        self,
        max_sentences: int,
        thresholds: DeclineThresholds,
        margin: float,
        answer_type_sentences: int = 0,
        name_margin: float = 0.0,
    ):
        self.max_sentences = max_sentences
        self.thresholds = thresholds
        self.margin = margin
        self.answer_type_sentences = answer_type_sentences
        self.name_margin = name_margin

    def lacks_answer_type(self, query: Query, evidence: list[Evidence]) -> AnswerType | None:
        """The number or date type the question asks for, when none of the best
        ``answer_type_sentences`` sentences holds one (else None; always None when off)."""
        if not self.answer_type_sentences:
            return None
        kind = expected_type(query.text)
        if kind not in (AnswerType.NUMBER, AnswerType.DATE):
            return None
        head = evidence[: self.answer_type_sentences]
        return None if any(supports(kind, e.text, query.text) for e in head) else kind

    def threshold(self, evidence: list[Evidence], question_language: str = "", question: str = "") -> float:
        """The decline threshold for this question and its best sentence's language, raised by
        ``name_margin`` when ``question`` names things the best sentence's passage never mentions
        (:mod:`rag.names`)."""
        return self._raised(evidence, question_language, self.unmentioned(evidence, question))

    def _raised(self, evidence: list[Evidence], question_language: str, unmentioned: list[str]) -> float:
        """The threshold, given the question's names its best passage never mentions."""
        base = self.thresholds.for_languages(
            question_language, evidence[0].passage.language if evidence else ""
        )
        return base + self.name_margin if unmentioned else base

    def unmentioned(self, evidence: list[Evidence], question: str) -> list[str]:
        """The question's names that the best sentence's passage never mentions (checked only
        when ``name_margin`` is set)."""
        if not (self.name_margin and question and evidence):
            return []
        return unmentioned_names(question, max(evidence, key=lambda e: e.score).passage)

    def select(
        self, evidence: list[Evidence], question_language: str = "", question: str = ""
    ) -> list[Evidence]:
        """The sentences to quote, in the order given: the first whenever the best evidence score
        clears the threshold, then others within ``margin`` of the best score.

        The order is the evidence order, which a tie-break (:mod:`rag.alignment`) may have changed
        among near-equal scores; the threshold and the margin read the best score, wherever it is.
        """
        threshold = self.threshold(evidence, question_language, question)
        best = max((e.score for e in evidence), default=None)
        if best is None or best < threshold:
            return []
        floor = max(threshold, best - self.margin)
        chosen: list[Evidence] = []
        seen_text: set[str] = set()
        for i, ev in enumerate(evidence):
            if len(chosen) == self.max_sentences:
                break
            if i > 0 and ev.score < floor:
                continue
            key = " ".join(ev.text.split()).casefold()
            if key in seen_text:  # the same sentence in a syndicated copy adds nothing
                continue
            seen_text.add(key)
            chosen.append(ev)
        return chosen

    def answer(self, query: Query, evidence: list[Evidence], passages: list[Passage]) -> Answer:
        question, question_language = query.question, query.language
        missing = self.lacks_answer_type(query, evidence) if evidence else None
        chosen = [] if query.overrides or missing else self.select(evidence, question_language, query.text)
        best = max((e.score for e in evidence), default=None)
        confidence = round(best, 4) if best is not None else None
        if not chosen:
            names = self.unmentioned(evidence, query.text)
            threshold = self._raised(evidence, question_language, names)
            raised = f" (raised by {self.name_margin:.3f}: the passage never mentions {', '.join(names)})"
            reason = (
                OVERRIDE_REASON
                if query.overrides
                else f"the question asks for a {missing.value} and none of the best sentences gives one"
                if missing
                else "no passages matched the question and filters"
                if not passages
                else f"best sentence's evidence score {best:.3f} is below the threshold {threshold:.3f}"
                + (raised if names else "")
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
        citations = [make_citation(i, ev, query) for i, ev in enumerate(chosen, start=1)]
        text = " ".join(f"{c.sentence} [{c.marker}]" for c in citations)
        return Answer(question, text, citations, declined=False, passages=passages, confidence=confidence)

    def standalone(self, question: str, history: Sequence[str]) -> str | None:
        """No rewriting without a model: the follow-up rule decides what is searched."""
        return None

    def stream(
        self, query: Query, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        """Extractive answers are ready at once: one piece, then the answer."""
        answer = self.answer(query, evidence, passages)
        yield answer.text
        yield answer
