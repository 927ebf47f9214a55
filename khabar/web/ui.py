"""The chat's page: the Gradio Blocks layout, its theme and CSS, and which component event
calls which :class:`~khabar.web.handlers.ChatHandlers` method.

Only layout and wiring live here: what an event does is ``handlers``'; the elem_ids are what
the browser tests (and any styling) find the components by.
"""

from __future__ import annotations

import gradio as gr

from ingest.sources.discovery import SUPPORTED_SUFFIXES
from khabar.web.backend import Backend
from khabar.web.collection import RESULT_HEADERS, upload_limits
from khabar.web.handlers import ChatHandlers
from khabar.web.render import header_html, intro_html, language_label

EXAMPLES = [
    "What did the US State Department warn?",
    "What did Kim promise Russia?",
    "अमेरिकी विदेश विभाग ने क्या चेतावनी दी?",
]

# How often an open page asks what the background feed refresh did (a cheap read, no fetch).
REFRESH_STATUS_SECONDS = 5.0

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
.khabar-matches { font-size: .85rem; color: var(--body-text-color-subdued); margin: .3rem 0 0; }
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


def build(backend: Backend) -> gr.Blocks:
    """The Gradio Blocks app over ``backend``'s collection."""
    handlers = ChatHandlers(backend)
    facets = backend.facets
    choice = backend.answerers

    with gr.Blocks(
        title="Khabar — ask the news",
        analytics_enabled=False,
        delete_cache=(3600, 3600),  # uploads are copied into the data dir; Gradio's copies can go
    ) as demo:
        header = gr.HTML(header_html(facets), elem_id="khabar-header", js_on_load=None)
        if backend.feeds is not None:  # khabar serve --refresh-every
            refresh_line = gr.HTML(backend.feeds.status_html(), elem_id="khabar-refresh", js_on_load=None)
            gr.Timer(REFRESH_STATUS_SECONDS).tick(
                handlers.refresh_status, None, [refresh_line, header], show_progress="hidden"
            )
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
                        # Shown only when a language model is connected: then each question may
                        # be answered by quoting or by the model (checked against its citations).
                        answerer = gr.Radio(
                            choices=choice.radio_choices(),
                            value=choice.default if choice.offered else None,
                            label="Answer",
                            visible=choice.offered,
                            elem_id="khabar-answerer",
                        )
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
            if backend.uploads:  # off on a reader host (KHABAR_WEB_UPLOADS): nothing here writes
                with gr.Tab("Add articles", id="add"):
                    gr.Markdown(
                        "Upload news files; they are added to the collection the chat answers from. "
                        "Khabar reads "
                        + ", ".join(f"`{s}`" for s in sorted(SUPPORTED_SUFFIXES))
                        + "."
                        + upload_limits(backend.max_upload_bytes, backend.max_file_bytes)
                    )
                    uploads = gr.File(
                        file_count="multiple",
                        file_types=sorted(SUPPORTED_SUFFIXES),
                        label="Article files",
                        elem_id="khabar-upload",
                    )
                    with gr.Row():
                        add_btn = gr.Button("Add to collection", variant="primary", elem_id="khabar-add")
                        cancel_btn = gr.Button("Cancel", variant="secondary", elem_id="khabar-cancel")
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

        asked_with = [lang_filter, source_filter, date_from, date_to, answerer]
        chat_out = [textbox, chatbot, turns, sources]
        textbox.submit(
            handlers.respond, [textbox, chatbot, turns, *asked_with], chat_out, show_progress="hidden"
        )
        chatbot.example_select(
            handlers.respond_example, [chatbot, turns, *asked_with], chat_out, show_progress="hidden"
        )
        new_chat_btn.click(
            handlers.new_chat, None, [chatbot, turns, sources, textbox], show_progress="hidden"
        )
        chatbot.clear(handlers.new_chat, None, [chatbot, turns, sources, textbox], show_progress="hidden")
        chatbot.select(handlers.show_turn, [turns], [sources], show_progress="hidden")
        chatbot.like(handlers.vote, [turns], None, show_progress="hidden")
        if backend.uploads:
            add_btn.click(
                handlers.add_articles,
                [uploads],
                [add_status, results, lang_filter, source_filter, date_row, header],
                concurrency_limit=1,
            )
            # Its own queue slot, so it runs while the upload it cancels holds the only ingest slot.
            cancel_btn.click(
                handlers.cancel_add, None, [add_status], concurrency_limit=None, show_progress="hidden"
            )
    return demo
