"""Khabar itself as a system under evaluation: its ingestion builds the index, its service answers.

The evaluation indexes exactly the given articles in an index of their own (``eval-<hash>``,
apart from the user's collection), named after the files' contents and the settings that shape
the index, so an unchanged set is indexed once and reused by later runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from khabar.eval.build import BuildInfo, BuildProgress, components
from khabar.eval.data import ArticleSet
from khabar.settings import AnswerSettings, EvidenceSettings, RetrievalSettings, Settings
from rag.types import Answer

__all__ = ["ANSWER_SETTINGS", "KhabarPipeline", "eval_index_name"]

logger = logging.getLogger(__name__)

BUILD_RECORD = "eval-build.json"  # beside the manifest: how the index was first built

# Settings that change the answers but not the index: recorded in every report, so two runs'
# figures can be told apart (the ablation in bench/ changes exactly these). Whole typed parts, so
# a new answer-shaping setting is recorded without anyone remembering to list it.
ANSWER_SETTINGS = frozenset(
    {"chroma_ef_search"}
    | set(RetrievalSettings.model_fields)
    | set(EvidenceSettings.model_fields)
    | set(AnswerSettings.model_fields)
) - {"top_k"}


def eval_index_name(file_hashes: list[str], settings: Settings) -> str:
    """``eval-<12 hex>`` from the article files' contents and the index recipe (``IndexSpec``:
    the index-shaping settings and the code that reads, chunks and stores).

    Content, not paths: the same files copied elsewhere reuse the index; an edited file, a new
    chunk size or changed chunking code gets a new one. The hashes are sorted because the order
    of ``--articles`` does not change what is indexed.
    """
    key = json.dumps(
        {"files": sorted(file_hashes), "recipe": components().index_spec(settings).fingerprint()},
        sort_keys=True,
    )
    return "eval-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def check_reusable(settings: Settings, name: str, rebuild: bool = False) -> None:
    """Raise ``ValueError`` (naming the eval indexes there are) unless ``name`` is an existing
    eval index that ``--reuse-index`` may answer from; with ``rebuild`` it would be dropped."""
    if rebuild:
        raise ValueError(
            f"--reuse-index {name} with --rebuild would drop the index given; use one of the two"
        )
    folder = components().index_path(settings, name)
    if not (folder / "manifest.sqlite").exists():
        there = sorted(p.name for p in folder.parent.glob("eval-*") if (p / "manifest.sqlite").exists())
        raise ValueError(
            f"--reuse-index {name}: there is no such index in {folder.parent} (eval indexes there: "
            f"{', '.join(there) or 'none'}); give one of those, or leave the option out to build one"
        )


class KhabarPipeline:
    """Khabar itself: its ingestion builds the index and :class:`rag.service.QAService` answers."""

    name = "khabar"

    def __init__(self, settings: Settings, top_k: int, rebuild: bool = False):
        # A copy with the evaluation's retrieval depth: the user's settings object is not touched.
        self.settings = settings.model_copy(update={"top_k": top_k})
        self.rebuild = rebuild
        self.index_name = ""
        # ``khabar eval --reuse-index``: an existing eval index, used whatever the recipe says now.
        self.reuse_index = ""
        self._service: Any = None

    def describe(self) -> dict[str, Any]:
        s = self.settings
        return {
            "name": self.name,
            "index_name": self.index_name,
            "index_given": bool(self.reuse_index),
            "top_k": s.top_k,
            **components().index_spec(s).describe(),
            **s.model_dump(include=ANSWER_SETTINGS),
        }

    def build(self, articles: ArticleSet, progress: BuildProgress | None = None) -> BuildInfo:
        self.index_name = self.reuse_index or eval_index_name(
            [f.sha256 for f in articles.files], self.settings
        )
        if self.reuse_index:
            check_reusable(self.settings, self.reuse_index, self.rebuild)
        folder = components().index_path(self.settings, self.index_name)
        if self.rebuild and folder.exists():
            components().open_index(self.settings, self.index_name).drop()
        existed = (folder / "manifest.sqlite").exists()

        ingestor = components().ingestor(self.settings, self.index_name)
        try:

            def relay(state: Any) -> None:
                if state.waiting:  # another process is writing this eval index
                    logger.warning(state.waiting)
                elif progress:
                    progress(state.files_done, state.total_files, state.chunks)

            report = ingestor.ingest(articles.paths, prune=False, progress=relay)
            stats = ingestor.manifest.stats()
        finally:
            ingestor.close()
        record_path = folder / BUILD_RECORD
        if report.chunks == 0 and existed:
            status = "reused"
        elif existed:
            status = "resumed"
        else:
            status = "built"
        info = BuildInfo(
            index_name=self.index_name,
            status=status,
            seconds=round(report.seconds, 3),
            chunks_embedded=report.chunks,
            sentences_embedded=report.sentences,
            chunks_per_second=round(report.chunks / report.seconds, 2)
            if report.chunks and report.seconds
            else None,
            index_chunks=int(stats["chunks"]),
            index_articles=int(stats["articles"]),
            problems=[str(p) for p in report.problems],
        )
        if status == "built" and not info.problems:
            record = {
                "seconds": info.seconds,
                "chunks": info.chunks_embedded,
                "sentences": info.sentences_embedded,
                "chunks_per_second": info.chunks_per_second,
                "articles": info.index_articles,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")
        elif record_path.is_file():
            info.first_build = json.loads(record_path.read_text(encoding="utf-8"))
        if info.index_articles != len(articles.articles):
            info.problems.append(
                f"the index holds {info.index_articles} article names but the files hold "
                f"{len(articles.articles)}; rerun with --rebuild"
            )
        return info

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        if self._service is None:
            if not self.index_name:
                raise RuntimeError("build() the evaluation index before asking questions")
            self._service = components().service(self.settings, self.index_name)
        return self._service.ask(question, history=history)
