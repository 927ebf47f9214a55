"""What every system under evaluation shares: the :class:`Pipeline` interface and its build record.

A pipeline is anything that can ``build`` an index of the evaluation's articles and then ``ask``
a question, returning the same :class:`rag.types.Answer` the CLI and the chat show. The types live
here, apart from any pipeline, so that Khabar's pipeline (:mod:`khabar.eval.khabar_pipeline`), the
stock anchor (:mod:`khabar.eval.stock`), the registry (:mod:`khabar.eval.pipelines`) and the
runner all import them from one place and none of them has to import another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from khabar.eval.data import ArticleSet
from rag.types import Answer

__all__ = ["BuildInfo", "BuildProgress", "Pipeline", "components"]

BuildProgress = Callable[[int, int, int], None]  # (files done, total files, chunks embedded so far)


@dataclass
class BuildInfo:
    """How the pipeline's index came to be, for the report (build time, chunks/s, reuse)."""

    index_name: str
    status: str  # "built" (from nothing), "reused" (nothing to do), "resumed" (finished a partial build)
    seconds: float  # this run's build or check time
    chunks_embedded: int  # chunks embedded by this run
    sentences_embedded: int  # their sentences, embedded too (evidence): most of the embedding work
    chunks_per_second: float | None  # None when nothing was embedded (reused index)
    index_chunks: int  # chunks in the index now
    index_articles: int
    first_build: dict[str, Any] | None = None  # the original build's figures, for a reused index
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Pipeline(Protocol):
    """What the runner needs from a system under evaluation."""

    name: str

    def describe(self) -> dict[str, Any]:
        """Settings that shape its answers, recorded in the report."""
        ...

    def build(self, articles: ArticleSet, progress: BuildProgress | None = None) -> BuildInfo:
        """Index exactly ``articles`` (reusing a complete earlier index when possible)."""
        ...

    def ask(self, question: str, history: Sequence[str] = (), now: str = "") -> Answer:
        """Answer one question (``history``: the conversation's earlier questions, oldest first;
        ``now``: when it is asked, the question's ``date``, "" for the current time);
        ``answer.passages`` must hold the retrieved passages in rank order."""
        ...


def components() -> Any:
    """The composition root, imported on first use: it loads Chroma and llama-index, which
    ``khabar --help`` and ``khabar eval --compare`` do not need."""
    from khabar import components as root

    return root
