"""The streaming seam between the chat and the question-answering service.

``QAService.ask`` returns a finished ``Answer``; the extractive answerer has it at once. A
backend that generates text streams it through ``Answerer.stream``; a service that exposes
that as ``ask_stream(question, filters, history, answerer)`` yields text pieces and then the
final ``Answer``, and the chat shows the pieces as they come. Without it, the answer appears whole.
A named answerer (the chat's toggle) is passed on only when there is one, so a service that has
no names is asked as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from index.records import SearchFilters
from rag.types import Answer


def answer_events(
    service: Any,
    question: str,
    filters: SearchFilters | None,
    history: Sequence[str],
    answerer: str | None = None,
) -> Iterator[str | Answer]:
    """Text pieces (deltas) while the answer is being written, then the ``Answer`` itself
    (``answerer``: the name of the one to answer with; None: the service's default)."""
    named = () if answerer is None else (answerer,)
    ask_stream = getattr(service, "ask_stream", None)
    if callable(ask_stream):
        yield from ask_stream(question, filters, history, *named)
        return
    yield service.ask(question, filters, history, *named)
