"""What the chat does on each event: ask, pick an example, start over, revisit, vote, add articles.

The handlers are plain methods over a :class:`~khabar.web.backend.Backend` returning (or, for
answers, yielding) one value per output component, so they can be driven without a browser.
Every answer comes from the backend's service (``QAService.ask``, the same code as
``khabar ask``); rendering and escaping are ``khabar.web.render``'s. ``khabar.web.ui`` wires
the components to these methods.

Gradio finds a handler's event data by its annotation (``gr.SelectData``, ``gr.LikeData``) and
its progress tracker by the ``gr.Progress()`` default, resolving the annotations at runtime:
every name in a handler's signature must be importable here, not only under TYPE_CHECKING.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from index.lock import IndexBusy
from index.records import SearchFilters
from index.text import is_blank
from ingest.pipeline import Progress
from khabar.web.backend import Backend
from khabar.web.collection import Facets, oversized_upload, report_rows, report_summary, save_uploads
from khabar.web.feedback import append_feedback, feedback_record, vote_from_like
from khabar.web.render import (
    answer_markdown,
    escape_markdown,
    header_html,
    intro_html,
    language_label,
    message_html,
    partial_markdown,
    sources_html,
)
from khabar.web.stream import answer_events
from rag.types import Answer

log = logging.getLogger("khabar.web")

# Why a reader host refuses an upload, and where articles are added instead.
UPLOADS_OFF = (
    "This server does not add articles (KHABAR_WEB_UPLOADS is off): it reads an index that one "
    "other host writes. Add them on that host, with khabar ingest or its chat's upload tab."
)


@dataclass
class Turn:
    """One question and its answer, remembered per session for follow-ups, sources and votes."""

    question: str
    answer: Answer | None  # None when the question was refused (e.g. a malformed date)
    message_index: int  # where the answer sits in the chatbot's message list
    id_prefix: str


# What the chat handlers yield: textbox, chatbot messages, turns, sources panel (str or gr.skip()).
ChatUpdate = tuple[Any, list[dict[str, Any]], list[Turn], Any]


def filter_updates(facets: Facets) -> tuple[Any, Any, Any]:
    """New choices for the language and source filters, and the date row's visibility."""
    return (
        gr.update(choices=[(language_label(c), c) for c in facets.language_choices]),
        gr.update(choices=facets.sources, visible=bool(facets.sources)),
        gr.update(visible=facets.has_dates),
    )


def _message_index(index: int | tuple[int, ...] | list[int]) -> int:
    """Gradio gives a chatbot message's index as an int or as (message, part)."""
    return index if isinstance(index, int) else index[0]


class ChatHandlers:
    """The chat's event handlers, sharing one backend across every session.

    Per-session state (the messages and the turns) comes in as arguments and goes out as
    return values, as Gradio keeps it; nothing per session is stored here.
    """

    def __init__(self, backend: Backend):
        self.backend = backend
        self._seen_refreshes = 0  # background feed refreshes the header has been re-read after

    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]],
        turns: list[Turn],
        languages: list[str],
        sources: list[str],
        date_from: str,
        date_to: str,
        answerer: str | None = None,
    ) -> Iterator[ChatUpdate]:
        """Generator handler: shows the question at once, then the answer as it streams.

        ``answerer`` is the toggle's choice ("extractive", "generated"); one the service does not
        offer, or None, asks for its default."""
        question = " ".join((message or "").split())
        if is_blank(question):  # zero-width characters alone are no question either
            yield "", chat, turns, gr.skip()
            return
        chat = [*chat, {"role": "user", "content": escape_markdown(question)}]
        turn = Turn(question, None, len(chat), f"khabar-t{len(turns) + 1}")
        history = [t.question for t in turns]
        turns = [*turns, turn]
        try:
            filters = SearchFilters.parse(languages, sources, date_from, date_to)
        except ValueError as err:
            chat = [*chat, {"role": "assistant", "content": escape_markdown(str(err))}]
            yield "", chat, turns, message_html("Filters", str(err))
            return
        chat = [*chat, {"role": "assistant", "content": "*Searching the articles…*"}]
        yield "", chat, turns, message_html("Sources", "Searching…")
        text = ""
        try:
            name = self.backend.answerers.resolve(answerer)
            for event in answer_events(self.backend.service, question, filters, history, name):
                if isinstance(event, str):
                    text += event
                    chat[-1] = {"role": "assistant", "content": partial_markdown(text)}
                    yield "", chat, turns, gr.skip()
                    continue
                turn.answer = event
                shown = answer_markdown(event, turn.id_prefix, self.backend.answerers.model)
                chat[-1] = {"role": "assistant", "content": shown}
                yield "", chat, turns, sources_html(event, turn.id_prefix)
        except Exception as err:  # the chat must say so, not spin on "Searching…" forever
            log.exception("answering %r failed", question)
            problem = f"Answering failed: {type(err).__name__}: {err}"
            chat[-1] = {"role": "assistant", "content": escape_markdown(problem)}
            yield "", chat, turns, message_html("Sources", problem)

    def respond_example(
        self,
        evt: gr.SelectData,
        chat: list[dict[str, Any]],
        turns: list[Turn],
        languages: list[str],
        sources: list[str],
        date_from: str,
        date_to: str,
        answerer: str | None = None,
    ) -> Iterator[ChatUpdate]:
        """A click on one of the chatbot's examples asks it, as if typed."""
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        yield from self.respond(
            str(value.get("text", "")), chat, turns, languages, sources, date_from, date_to, answerer
        )

    def new_chat(self) -> tuple[list[Any], list[Turn], str, str]:
        """Empty chat, no turns, the intro in the sources panel, an empty question box."""
        return [], [], intro_html(self.backend.facets.articles), ""

    def show_turn(self, evt: gr.SelectData, turns: list[Turn]) -> Any:
        """Clicking an earlier answer shows its sources again."""
        index = _message_index(evt.index)
        for t in turns:
            if t.answer is not None and index in (t.message_index, t.message_index - 1):
                return sources_html(t.answer, t.id_prefix)
        return gr.skip()

    def vote(self, evt: gr.LikeData, turns: list[Turn]) -> None:
        """A thumb on an answer appends a feedback line (question, answer, citations, vote)."""
        index = _message_index(evt.index)
        turn = next((t for t in turns if t.message_index == index), None)
        if turn is None or turn.answer is None:
            return
        record = feedback_record(
            turn.question, turn.answer.to_dict(), vote_from_like(evt.liked), self.backend.index_name
        )
        append_feedback(self.backend.feedback_path, record)

    def add_articles(
        self,
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio finds the tracker by this default
    ) -> tuple[Any, ...]:
        """Ingest uploads with the same Ingestor as ``khabar ingest``, then refresh the filters.

        Returns the status, the per-file table, the language and source filters, the date row
        and the header.
        """
        backend = self.backend
        if not backend.uploads:  # the tab is not built; this is a call through the API
            return (message_html("Not added", UPLOADS_OFF), *[gr.skip()] * 5)
        if not files:
            return (
                message_html("Add articles", "Choose one or more files first."),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
        refused = oversized_upload(files, backend.max_upload_bytes, backend.max_file_bytes)
        if refused:  # before anything is copied, read or queued behind the lock
            return (message_html("Not added", refused), *[gr.skip()] * 5)
        with backend.ingest_lock:
            backend.cancel_upload.clear()
            saved = save_uploads(files, backend.uploads_dir)
            progress((0, len(saved)), desc="Reading and embedding", unit="files")

            def on_progress(state: Progress) -> None:
                progress(
                    (state.files_done, state.total_files),
                    desc=state.waiting
                    or f"{Path(state.current).name}: {state.articles} articles, {state.chunks} chunks",
                    unit="files",
                )

            try:
                report = backend.ingest(saved, on_progress, backend.cancel_upload.is_set)
            except IndexBusy as err:  # another process kept the index busy for too long
                return (message_html("Not added", str(err)), *[gr.skip()] * 5)
            backend.refresh()
        rows = report_rows(report)
        if report.cancelled:
            title = "Cancelled"
        else:
            title = "Added" if report.ok else "Added, with problems"
        return (
            message_html(title, report_summary(report)),
            gr.update(value=rows, visible=True),
            *filter_updates(backend.facets),
            header_html(backend.facets),
        )

    def refresh_status(self) -> tuple[str, str]:
        """The background feed refresh's line, and the header re-read once a refresh has
        finished since the last look (new articles change its counts and dates)."""
        feeds = self.backend.feeds
        if feeds is None:
            return "", header_html(self.backend.facets)
        if feeds.runs != self._seen_refreshes:
            self._seen_refreshes = feeds.runs
            self.backend.refresh()
        return feeds.status_html(), header_html(self.backend.facets)

    def cancel_add(self) -> str:
        """Ask the running upload to stop after the article it is storing (what was stored stays)."""
        if not self.backend.ingest_lock.locked():
            return message_html("Add articles", "Nothing is being added.")
        self.backend.cancel_upload.set()
        return message_html("Cancelling", "Stopping after the article being stored; what was added stays.")
