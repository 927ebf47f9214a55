"""One shape per kind of stage, so stages can be added, removed or reordered without touching
the service (llama-index's retriever -> node postprocessors -> synthesizer is the model)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from index.records import Passage
from rag.query import Query
from rag.types import Answer, Evidence


class Retriever(Protocol):
    def retrieve(self, query: Query, candidates: int) -> list[Passage]:
        """Candidate passages, best first (possibly more than ``candidates``, for later steps to cut)."""
        ...


class PassageStep(Protocol):
    def process(self, query: Query, passages: list[Passage]) -> list[Passage]:
        """The passages reordered, folded or cut; ranks renumbered when the order changes."""
        ...


class EvidenceScorer(Protocol):
    def score(self, query: Query, passages: list[Passage]) -> list[Evidence]:
        """The passages' sentences, best first."""
        ...


class EvidenceStep(Protocol):
    def process(self, query: Query, evidence: list[Evidence]) -> list[Evidence]: ...


class Answerer(Protocol):
    def answer(self, query: Query, evidence: list[Evidence], passages: list[Passage]) -> Answer: ...

    def stream(
        self, query: Query, evidence: list[Evidence], passages: list[Passage]
    ) -> Iterator[str | Answer]:
        """Text deltas as they are produced, then the finished ``Answer``."""
        ...

    def standalone(self, question: str, history: Sequence[str]) -> str | None:
        """The follow-up ``question`` rewritten to stand alone, or None to search it by the
        follow-up rule (:mod:`rag.followup`)."""
        ...
