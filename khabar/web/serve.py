"""Serving the web face: where it listens, then build the backend and the page, queue, and
launch Gradio.

``khabar serve`` and ``python app.py`` both end here; neither ingests anything by itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from khabar.settings import Settings
from khabar.web.backend import Backend
from khabar.web.refresh import BackgroundRefresh

if TYPE_CHECKING:
    import gradio as gr


@dataclass(frozen=True)
class Served:
    """A launched chat: the Gradio app, and the feed refresh thread running beside it (None
    without ``refresh_every``). Closing the web server does not end that thread, so
    :meth:`close` ends both."""

    app: gr.Blocks
    feed_refresh: BackgroundRefresh | None = None

    def close(self) -> None:
        if self.feed_refresh is not None:
            self.feed_refresh.stop()
        self.app.close()


def refresh_feeds(settings: Settings):
    """One refresh of the followed feeds, with a refresher of its own (closed after the run)."""
    from khabar import components

    refresher = components.feed_refresher(settings)
    try:
        return refresher.refresh()
    finally:
        refresher.close()


def server_address(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, int]:
    """Where the chat listens: ``host`` / ``port`` when given (``khabar serve --host/--port``),
    else Gradio's own ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (what deployments such as
    container images set for any Gradio app), else the ``serve_host`` / ``serve_port`` settings
    (``KHABAR_SERVE_HOST`` / ``KHABAR_SERVE_PORT``, ``.env``, the defaults).

    Gradio reads its variables only when ``launch`` gets no address; Khabar always passes one,
    so it honours them here. An empty variable counts as unset.
    """
    env = os.environ if environ is None else environ
    if host is None:
        host = env.get("GRADIO_SERVER_NAME", "").strip() or settings.serve_host
    if port is None:
        raw = env.get("GRADIO_SERVER_PORT", "").strip()
        port = _port(raw) if raw else settings.serve_port
    return host, port


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ValueError(f"GRADIO_SERVER_PORT must be a port number (1-65535), not {raw!r}")
    return port


def launch(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    block: bool = True,
    refresh_every: float | None = None,
) -> Served:
    """Serve the chat at :func:`server_address`; ``block=False`` returns at once (tests).
    ``refresh_every``: seconds between refreshes of the followed feeds, in a thread (None: none).
    The returned :class:`Served` holds the app and that thread; its ``close`` ends both."""
    host, port = server_address(settings, host, port)  # before the model loads: a bad port fails fast
    from khabar.components import check_answerer

    check_answerer(settings)  # and so does generated answering without a model
    # The service loads in a thread while Gradio is imported here (the page needs the service,
    # so it is laid out after): ONNX Runtime and Chroma load the model and the vectors in C code
    # that lets go of the GIL, on the other core, while the import holds it (`bench/scale.py cold`).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="khabar-backend") as pool:
        building = pool.submit(Backend.from_settings, settings)
        from khabar.web.ui import CSS, THEME, build  # imports Gradio

        backend = building.result()
    if refresh_every:
        backend.feeds = BackgroundRefresh(lambda: refresh_feeds(settings), refresh_every).start()
    demo = build(backend)
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
        max_file_size=settings.max_file_bytes,  # refused by Gradio's upload route, never stored
        theme=THEME,
        css=CSS,
        quiet=not block,
    )
    return Served(demo, backend.feeds)
