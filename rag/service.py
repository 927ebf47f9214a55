"""The question-answering service every face uses: CLI ``ask``, the chat, and ``khabar eval``.

A loop over configured stages of one shape each (:mod:`rag.stages`): a retriever, passage steps
(fold, rerank, spread, tie-break), the top-k cut, an evidence scorer, evidence steps, and an
answerer. The service takes its stages, not settings: ``khabar.components`` builds them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from index.records import Passage, SearchFilters
from index.store import Index
from rag.query import Query, QueryBuilder
from rag.recency import time_note
from rag.stages import Answerer, EvidenceScorer, EvidenceStep, PassageStep, Retriever
from rag.types import Answer, Evidence


@dataclass
class Search:
    """What :meth:`QAService.search` found for a :class:`Query`."""

    query: Query
    passages: list[Passage]

    @property
    def question(self) -> str:
        return self.query.text

    @property
    def language(self) -> str:
        return self.query.language

    def date_answer(self, answer: Answer) -> Answer:
        """``answer`` with the question's time frame and what the reader should know about the
        dates behind it (a window that found nothing, only undated articles)."""
        frame = self.query.timeframe
        answer.timeframe = frame.describe() if frame is not None else ""
        answer.time_note = time_note(self.query, self.passages)
        return answer


class QAService:
    def __init__(
        self,
        index: Index,
        queries: QueryBuilder,
        retriever: Retriever,
        passage_steps: Sequence[PassageStep],
        evidence: EvidenceScorer,
        evidence_steps: Sequence[EvidenceStep],
        answerer: Answerer,
        *,
        top_k: int,
        candidates: int,
        answer_passages: int,
        alternatives: Mapping[str, Answerer] | None = None,
        digest_passages: int = 0,
    ):
        """``answerer`` answers by default; ``alternatives`` are the answerers a caller may choose by
        name for one question (the chat's toggle, ``khabar ask --answerer``, eval side by side).
        ``digest_passages``: how many passages a digest question keeps and reads sentences from
        (its answer is one entry per story, so it wants more articles than a fact does)."""
        self.index = index
        self.queries = queries
        self.retriever = retriever
        self.passage_steps = list(passage_steps)
        self.evidence = evidence
        self.evidence_steps = list(evidence_steps)
        self.answerer = answerer
        self.alternatives = dict(alternatives or {})
        self.top_k = top_k
        # The reranker may lift a candidate from below the cut: the steps see more than are kept.
        self.candidates = max(candidates, top_k, digest_passages)
        self.answer_passages = answer_passages
        self.digest_passages = digest_passages

    def is_empty(self) -> bool:
        return self.index.count() == 0

    def close(self) -> None:
        self.index.close()

    def answerer_for(self, name: str | None) -> Answerer:
        """The answerer called ``name`` (None: the default); KeyError names the ones there are."""
        if name is None:
            return self.answerer
        if name not in self.alternatives:
            raise KeyError(
                f"no answerer {name!r} is configured (there is: {', '.join(self.alternatives) or '-'})"
            )
        return self.alternatives[name]

    def ask(
        self,
        question: str,
        filters: SearchFilters | None = None,
        history: Sequence[str] = (),
        answerer: str | None = None,
        now: datetime | str | None = None,
    ) -> Answer:
        """Answer ``question``; ``history`` holds the conversation's earlier questions, oldest first;
        ``now``: when it is asked (None: the current time), what "this week" is read against."""
        *_, answer = self.ask_stream(question, filters, history, answerer, now)
        assert isinstance(answer, Answer)
        return answer

    def search(
        self,
        question: str,
        filters: SearchFilters | None = None,
        history: Sequence[str] = (),
        standalone: str | None = None,
        now: datetime | str | None = None,
    ) -> Search:
        """The question's passages, best first: retrieval, then every passage step, then the cut
        (``standalone``: the question rewritten to stand alone, searched instead). A time window
        that finds nothing ("in September 2023" over a collection from 2022) is searched again
        without it, and the answer says so (:meth:`Search.date_answer`)."""
        query = self.queries.build(question, filters, history, standalone, now)
        passages = self.retriever.retrieve(query, self.candidates)
        if not passages and query.restricted:
            query = query.widen()
            passages = self.retriever.retrieve(query, self.candidates)
        for step in self.passage_steps:
            passages = step.process(query, passages)
        keep = max(self.top_k, self.digest_passages) if query.digest else self.top_k
        return Search(query, passages[:keep])

    def evidence_for(self, found: Search, passages: Sequence[Passage]) -> list[Evidence]:
        """The sentences the answerer chooses from, best first (``passages``: ``found.passages`` or
        a subset of them; answers quote the first ``answer_passages`` only, so a deeper retrieval,
        eval's top-10, answers alike)."""
        read = self.answer_passages
        if found.query.digest:
            read = max(read, self.digest_passages)
        evidence = self.evidence.score(found.query, list(passages[:read]))
        for step in self.evidence_steps:
            evidence = step.process(found.query, evidence)
        return evidence

    def ask_stream(
        self,
        question: str,
        filters: SearchFilters | None = None,
        history: Sequence[str] = (),
        answerer: str | None = None,
        now: datetime | str | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas while the answerer writes, then the finished ``Answer`` (with timings).

        A follow-up that continues the conversation ("And what did he promise?") is retrieved
        together with the previous question, so that the topic carries over; a question that stands
        alone is searched as asked (:mod:`rag.followup`). Sentences are always scored against the
        question as asked. An answerer with a language model may first rewrite a follow-up as a
        standalone question in its language; that rewrite is then searched and scored instead.
        ``answerer`` names one of the configured answerers (None: the default); ``now`` is when the
        question is asked (None: the current time).
        """
        chosen = self.answerer_for(answerer)
        t0 = time.perf_counter()
        standalone = chosen.standalone(question, history) if history else None
        t1 = time.perf_counter()
        found = self.search(question, filters, history, standalone, now)
        t2 = time.perf_counter()
        evidence = self.evidence_for(found, found.passages)
        for piece in chosen.stream(found.query, evidence, found.passages):
            if isinstance(piece, Answer):
                t3 = time.perf_counter()
                embed_ms = found.query.embed_ms
                piece.timings_ms = {
                    **({"condense": round((t1 - t0) * 1000, 2)} if standalone is not None else {}),
                    "embed": embed_ms,
                    "retrieve": round((t2 - t1) * 1000 - embed_ms, 2),
                    "answer": round((t3 - t2) * 1000, 2),
                    "total": round((t3 - t0) * 1000, 2),
                }
                found.date_answer(piece)
            yield piece
