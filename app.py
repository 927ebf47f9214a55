"""Khabar's web face: a Gradio chat over the ingested collection, with cited, highlighted sources.

This file only wires the interface. Every answer comes from ``QAService.ask`` (the same code as
``khabar ask``); rendering and escaping live in ``khabar.web`` where they are unit-tested.

Run ``python app.py`` or ``khabar serve``; neither ingests anything by itself.
"""

from __future__ import annotations

import os

# Before Gradio is imported: the app must start and render with no network at all.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.sources.discovery import SUPPORTED_SUFFIXES
from khabar.settings import Settings, get_settings
from khabar.web.collection import (
    RESULT_HEADERS,
    Facets,
    make_filters,
    read_facets,
    report_rows,
    report_summary,
    save_uploads,
)
from khabar.web.feedback import FEEDBACK_FILE, append_feedback, feedback_record, vote_from_like
from khabar.web.render import (
    answer_markdown,
    esc,
    escape_markdown,
    intro_html,
    language_label,
    message_html,
    partial_markdown,
    sources_html,
)
from khabar.web.stream import answer_events
from rag.types import Answer

log = logging.getLogger("khabar.web")

EXAMPLES = [
    "What did the US State Department warn?",
    "What did Kim promise Russia?",
    "अमेरिकी विदेश विभाग ने क्या चेतावनी दी?",
]

# Local and generic fonts only: Gradio must not fetch fonts from the internet.
THEME = gr.themes.Default(
    font=[
        gr.themes.Font("Noto Sans"),
        gr.themes.Font("Noto Sans Devanagari"),
        gr.themes.Font("Segoe UI"),
        gr.themes.Font("Nirmala UI"),
        "sans-serif",
    ],
    font_mono=[gr.themes.Font("DejaVu Sans Mono"), gr.themes.Font("Consolas"), "monospace"],
)

CSS = """
.khabar-sources h3 { margin: 0 0 .5rem; font-size: 1.05rem; }
.khabar-source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .6rem .75rem; margin-bottom: .6rem; background: var(--background-fill-secondary); }
.khabar-title { margin: 0 0 .25rem; font-size: 1rem; overflow-wrap: anywhere; }
.khabar-markers { color: var(--color-accent); font-weight: 700; }
.khabar-meta { font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: .4rem;
  overflow-wrap: anywhere; }
.khabar-passage { margin: 0; line-height: 1.7; white-space: pre-wrap; overflow-wrap: anywhere; }
mark.khabar-hl { background: #fde68a; color: #111; padding: 0 .1em; border-radius: 3px; }
mark.khabar-hl:target { outline: 2px solid var(--color-accent); }
.khabar-mark-n { font-weight: 700; margin-left: .15em; }
.khabar-note { margin: .25rem 0; color: var(--body-text-color-subdued); }
#khabar-chat a[href^="#"] { text-decoration: none; font-weight: 700; }
#khabar-header p { margin: 0; }
html, body, .gradio-container { max-width: 100%; overflow-x: hidden; }
"""


# --- state shared by every session ------------------------------------------------------------
class Backend:
    """The one service every session asks, and the filter choices read from its collection.

    After articles are added only the facets are re-read: dense retrieval queries Chroma live
    and the lexical index notices its new generation by itself (the browser test checks that
    the chat answers from an upload, so a retriever that starts caching would be caught).
    """

    def __init__(self, settings: Settings):
        from rag.service import QAService

        self.settings = settings
        self.ingest_lock = threading.Lock()
        self.service = QAService(settings)
        self.facets = read_facets(self.service.stores.chunk_collection)

    def refresh(self) -> None:
        self.facets = read_facets(self.service.stores.chunk_collection)

    @property
    def index_name(self) -> str:
        return str(self.service.stores.name)

    @property
    def feedback_path(self) -> Path:
        return Path(self.settings.data_dir) / FEEDBACK_FILE


@dataclass
class Turn:
    """One question and its answer, remembered per session for follow-ups, sources and votes."""

    question: str
    answer: Answer | None  # None when the question was refused (e.g. a malformed date)
    message_index: int  # where the answer sits in the chatbot's message list
    id_prefix: str


# What the chat handlers yield: textbox, chatbot messages, turns, sources panel (str or gr.skip()).
ChatUpdate = tuple[Any, list[dict[str, Any]], list[Turn], Any]


def header_html(facets: Facets) -> str:
    langs = ", ".join(language_label(code) for code in facets.languages) or "none yet"
    span = f" · {facets.first_date} to {facets.last_date}" if facets.has_dates else ""
    return (
        "<p><b>Khabar</b> answers questions about the news by quoting the articles, "
        "and shows which sentence each answer came from.</p>"
        f'<p class="khabar-note">Collection: {facets.articles} article(s), {facets.chunks} passages · '
        f"languages: {esc(langs)}{esc(span)}</p>"
    )


def filter_updates(facets: Facets) -> tuple[Any, Any, Any]:
    """New choices for the language and source filters, and the date row's visibility."""
    return (
        gr.update(choices=[(language_label(c), c) for c in facets.language_choices]),
        gr.update(choices=facets.sources, visible=bool(facets.sources)),
        gr.update(visible=facets.has_dates),
    )


# --- the interface ----------------------------------------------------------------------------
def build(settings: Settings) -> gr.Blocks:
    """The Gradio Blocks app over ``settings``' collection."""
    backend = Backend(settings)
    facets = backend.facets

    def respond(
        message: str,
        chat: list[dict[str, Any]],
        turns: list[Turn],
        languages: list[str],
        sources: list[str],
        date_from: str,
        date_to: str,
    ) -> Iterator[ChatUpdate]:
        """Generator handler: shows the question at once, then the answer as it streams."""
        question = " ".join((message or "").split())
        if not question:
            yield "", chat, turns, gr.skip()
            return
        chat = [*chat, {"role": "user", "content": escape_markdown(question)}]
        turn = Turn(question, None, len(chat), f"khabar-t{len(turns) + 1}")
        history = [t.question for t in turns]
        turns = [*turns, turn]
        try:
            filters = make_filters(languages, sources, date_from, date_to)
        except ValueError as err:
            chat = [*chat, {"role": "assistant", "content": escape_markdown(str(err))}]
            yield "", chat, turns, message_html("Filters", str(err))
            return
        chat = [*chat, {"role": "assistant", "content": "*Searching the articles…*"}]
        yield "", chat, turns, message_html("Sources", "Searching…")
        text = ""
        try:
            for event in answer_events(backend.service, question, filters, history):
                if isinstance(event, str):
                    text += event
                    chat[-1] = {"role": "assistant", "content": partial_markdown(text)}
                    yield "", chat, turns, gr.skip()
                    continue
                turn.answer = event
                chat[-1] = {"role": "assistant", "content": answer_markdown(event, turn.id_prefix)}
                yield "", chat, turns, sources_html(event, turn.id_prefix)
        except Exception as err:  # the chat must say so, not spin on "Searching…" forever
            log.exception("answering %r failed", question)
            problem = f"Answering failed: {type(err).__name__}: {err}"
            chat[-1] = {"role": "assistant", "content": escape_markdown(problem)}
            yield "", chat, turns, message_html("Sources", problem)

    def respond_example(
        evt: gr.SelectData,
        chat: list[dict[str, Any]],
        turns: list[Turn],
        languages: list[str],
        sources: list[str],
        date_from: str,
        date_to: str,
    ) -> Iterator[ChatUpdate]:
        value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
        yield from respond(str(value.get("text", "")), chat, turns, languages, sources, date_from, date_to)

    def new_chat() -> tuple[list[Any], list[Turn], str, str]:
        return [], [], intro_html(backend.facets.articles), ""

    def show_turn(evt: gr.SelectData, turns: list[Turn]) -> Any:
        """Clicking an earlier answer shows its sources again."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        for t in turns:
            if t.answer is not None and index in (t.message_index, t.message_index - 1):
                return sources_html(t.answer, t.id_prefix)
        return gr.skip()

    def vote(evt: gr.LikeData, turns: list[Turn]) -> None:
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        turn = next((t for t in turns if t.message_index == index), None)
        if turn is None or turn.answer is None:
            return
        record = feedback_record(
            turn.question, turn.answer.to_dict(), vote_from_like(evt.liked), backend.index_name
        )
        append_feedback(backend.feedback_path, record)

    def add_articles(
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio finds the tracker by this default
    ) -> tuple[Any, ...]:
        """Ingest uploads with the same Ingestor as ``khabar ingest``, then refresh the filters."""
        from ingest.pipeline import Ingestor, Progress

        if not files:
            return (
                message_html("Add articles", "Choose one or more files first."),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
        with backend.ingest_lock:
            saved = save_uploads(files, Path(settings.data_dir) / "uploads")
            progress((0, len(saved)), desc="Reading and embedding", unit="files")

            def on_progress(state: Progress) -> None:
                progress(
                    (state.files_done, state.total_files),
                    desc=f"{Path(state.current).name}: {state.articles} articles, {state.chunks} chunks",
                    unit="files",
                )

            ingestor = Ingestor(settings)
            try:
                report = ingestor.ingest(saved, progress=on_progress)
            finally:
                ingestor.close()
            backend.refresh()
        rows = report_rows(report)
        return (
            message_html("Added" if report.ok else "Added, with problems", report_summary(report)),
            gr.update(value=rows, visible=True),
            *filter_updates(backend.facets),
            header_html(backend.facets),
        )

    with gr.Blocks(
        title="Khabar — ask the news",
        analytics_enabled=False,
        delete_cache=(3600, 3600),  # uploads are copied into the data dir; Gradio's copies can go
    ) as demo:
        header = gr.HTML(header_html(facets), elem_id="khabar-header", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                turns = gr.State([])
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(
                            elem_id="khabar-chat",
                            label="Chat",
                            height="min(520px, 65vh)",
                            layout="bubble",
                            sanitize_html=True,
                            latex_delimiters=[],
                            buttons=["copy"],
                            feedback_options=("Like", "Dislike"),
                            examples=[{"text": q} for q in EXAMPLES],
                            placeholder="**Ask about the news** — in English or Hindi. Try an example below.",
                            autoscroll=True,
                        )
                        with gr.Row():
                            textbox = gr.Textbox(
                                elem_id="khabar-question",
                                show_label=False,
                                placeholder="Ask a question (Enter to send)…",
                                lines=1,
                                max_lines=4,
                                autofocus=True,
                                submit_btn="Ask",
                                scale=5,
                                min_width=200,
                            )
                            new_chat_btn = gr.Button("New chat", scale=1, min_width=100, elem_id="khabar-new")
                        with gr.Accordion("Filters", open=False, elem_id="khabar-filters"):
                            lang_filter = gr.CheckboxGroup(
                                choices=[(language_label(c), c) for c in facets.language_choices],
                                value=[],
                                label="Language (none ticked: all)",
                                elem_id="khabar-lang",
                            )
                            source_filter = gr.Dropdown(
                                choices=facets.sources,
                                value=[],
                                multiselect=True,
                                label="Source (empty: all)",
                                visible=bool(facets.sources),
                                elem_id="khabar-source",
                            )
                            with gr.Row(visible=facets.has_dates) as date_row:
                                date_from = gr.Textbox(
                                    label="From (YYYY-MM-DD)", placeholder="2023-09-01", elem_id="khabar-from"
                                )
                                date_to = gr.Textbox(
                                    label="To (YYYY-MM-DD)", placeholder="2023-09-30", elem_id="khabar-to"
                                )
                    with gr.Column(scale=2, min_width=300):
                        sources = gr.HTML(
                            intro_html(facets.articles), elem_id="khabar-sources", js_on_load=None
                        )
            with gr.Tab("Add articles", id="add"):
                gr.Markdown(
                    "Upload news files; they are added to the collection the chat answers from. "
                    "Khabar reads " + ", ".join(f"`{s}`" for s in sorted(SUPPORTED_SUFFIXES)) + "."
                )
                uploads = gr.File(
                    file_count="multiple",
                    file_types=sorted(SUPPORTED_SUFFIXES),
                    label="Article files",
                    elem_id="khabar-upload",
                )
                add_btn = gr.Button("Add to collection", variant="primary", elem_id="khabar-add")
                add_status = gr.HTML("", elem_id="khabar-add-status", js_on_load=None)
                results = gr.Dataframe(
                    headers=RESULT_HEADERS,
                    datatype=["str", "str", "number", "number", "str", "str"],
                    interactive=False,
                    wrap=True,
                    visible=False,
                    label="Result per file",
                    elem_id="khabar-results",
                )

        filters_in = [lang_filter, source_filter, date_from, date_to]
        chat_out = [textbox, chatbot, turns, sources]
        textbox.submit(respond, [textbox, chatbot, turns, *filters_in], chat_out, show_progress="hidden")
        chatbot.example_select(
            respond_example, [chatbot, turns, *filters_in], chat_out, show_progress="hidden"
        )
        new_chat_btn.click(new_chat, None, [chatbot, turns, sources, textbox], show_progress="hidden")
        chatbot.clear(new_chat, None, [chatbot, turns, sources, textbox], show_progress="hidden")
        chatbot.select(show_turn, [turns], [sources], show_progress="hidden")
        chatbot.like(vote, [turns], None, show_progress="hidden")
        add_btn.click(
            add_articles,
            [uploads],
            [add_status, results, lang_filter, source_filter, date_row, header],
            concurrency_limit=1,
        )
    return demo


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True) -> gr.Blocks:
    """Serve the chat (the ``khabar serve`` entry point); ``block=False`` returns at once (tests)."""
    demo = build(settings)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        theme=THEME,
        css=CSS,
        quiet=not block,
    )
    return demo


if __name__ == "__main__":
    launch(get_settings())
