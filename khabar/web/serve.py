"""Serving the web face: build the backend and the page, queue, and launch Gradio.

``khabar serve`` and ``python app.py`` both end here; neither ingests anything by itself.
"""

from __future__ import annotations

import gradio as gr

from khabar.settings import Settings
from khabar.web.backend import Backend
from khabar.web.ui import CSS, THEME, build


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True) -> gr.Blocks:
    """Serve the chat (the ``khabar serve`` entry point); ``block=False`` returns at once (tests)."""
    demo = build(Backend.from_settings(settings))
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
