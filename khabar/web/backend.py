"""The state every chat session shares: the question-answering service, the ingest entry
point and the filter choices read from the collection.

``Backend.from_settings`` takes the real service and ingestor from ``khabar.components``.
Everything else takes the components, so the handlers can be driven with fakes: no model,
no Chroma.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest.pipeline import IngestReport, ProgressCallback, StopCheck
from khabar.settings import Settings
from khabar.web.answerers import answerer_choice
from khabar.web.collection import Facets, read_facets
from khabar.web.feedback import FEEDBACK_FILE

# Ingest these (saved) files, reporting progress as it goes and stopping once asked to; what
# happened, per file.
IngestFn = Callable[[Sequence[Path], ProgressCallback, StopCheck], IngestReport]


class Backend:
    """The one service every session asks, and the filter choices read from its collection.

    After articles are added only the facets are re-read: dense retrieval queries Chroma live
    and the lexical index notices its new generation by itself (the browser test checks that
    the chat answers from an upload, so a retriever that starts caching would be caught).
    """

    def __init__(
        self,
        service: Any,
        ingest: IngestFn,
        read_facets: Callable[[], Facets],
        *,
        data_dir: Path,
        index_name: str,
        max_upload_bytes: int | None = None,
        max_file_bytes: int | None = None,
        uploads: bool = True,
    ):
        """``service`` answers (``ask`` or ``ask_stream``, see ``khabar.web.stream``); ``ingest``
        adds files; ``read_facets`` reads the filter choices from the collection; the answerers
        the chat offers are read from ``service`` (``khabar.web.answerers``). An upload
        over ``max_upload_bytes`` in all, or with a file over ``max_file_bytes``, is refused
        (None: no limit). ``uploads``: whether the chat may add articles at all (off on a reader
        host, which must not write to a shared index)."""
        self.service = service
        self.answerers = answerer_choice(service)
        self.ingest = ingest
        self._read_facets = read_facets
        self.data_dir = Path(data_dir)
        self.index_name = index_name
        self.max_upload_bytes = max_upload_bytes
        self.max_file_bytes = max_file_bytes
        self.uploads = uploads
        self.ingest_lock = threading.Lock()
        # Set by the cancel button, cleared when an upload starts; the ingestor asks it before
        # every article.
        self.cancel_upload = threading.Event()
        self.facets = read_facets()
        self.feeds: Any = None  # a khabar.web.refresh.BackgroundRefresh under --refresh-every

    @classmethod
    def from_settings(cls, settings: Settings) -> Backend:
        """The real service and ingestor over ``settings``' collection (the same ones the CLI uses)."""
        from khabar import components

        service = components.service(settings)

        def ingest(paths: Sequence[Path], progress: ProgressCallback, stop: StopCheck) -> IngestReport:
            ingestor = components.ingestor(settings)
            try:
                return ingestor.ingest(paths, progress=progress, stop=stop)
            finally:
                ingestor.close()

        return cls(
            service,
            ingest,
            lambda: read_facets(service.index),
            data_dir=settings.data_dir,
            index_name=service.index.name,
            max_upload_bytes=settings.max_upload_bytes,
            max_file_bytes=settings.max_file_bytes,
            uploads=settings.web_uploads,
        )

    def refresh(self) -> None:
        self.facets = self._read_facets()

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / FEEDBACK_FILE

    @property
    def uploads_dir(self) -> Path:
        """Uploads are copied here: Gradio's temporary copies go, the ingester keeps the path."""
        return self.data_dir / "uploads"
