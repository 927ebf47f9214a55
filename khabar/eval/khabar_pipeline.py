"""Khabar itself as a system under evaluation: its ingestion builds the index, its service answers.

The evaluation indexes exactly the given articles in an index of their own (``eval-<hash>``,
apart from the user's collection), named after the files' contents and the settings that shape
the index, so an unchanged set is indexed once and reused by later runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from khabar.eval.build import BuildInfo, BuildProgress, components
from khabar.eval.data import ArticleSet
from khabar.settings import (
    AnswerSettings,
    DigestSettings,
    EvidenceSettings,
    GenerationSettings,
    RetrievalSettings,
    Settings,
)
from rag.types import Answer, Evidence

__all__ = [
    "ANSWERERS",
    "ANSWER_SETTINGS",
    "GENERATION_SETTINGS",
    "KhabarPipeline",
    "check_answerer",
    "eval_index_name",
    "khabar_pipelines",
]

logger = logging.getLogger(__name__)

BUILD_RECORD = "eval-build.json"  # beside the manifest: how the index was first built

# Settings that change the answers but not the index: recorded in every report, so two runs'
# figures can be told apart (the ablation in bench/ changes exactly these). Whole typed parts, so
# a new answer-shaping setting is recorded without anyone remembering to list it.
ANSWER_SETTINGS = frozenset(
    {"chroma_ef_search", "chroma_filter_oversample"}
    | set(RetrievalSettings.model_fields)
    | set(EvidenceSettings.model_fields)
    | set(AnswerSettings.model_fields)
    | set(DigestSettings.model_fields)
) - {"top_k"}


# The generated-answer settings, recorded beside them; the API key never is (only whether one is
# set), since reports are shared.
GENERATION_SETTINGS = frozenset(GenerationSettings.model_fields) - {"llm_api_key"}

# ``khabar eval --answerer``: who writes the answers; "both" asks each question of each.
ANSWERERS = ("extractive", "generated", "both")


def check_answerer(settings: Settings, answerer: str, connected: Any = None) -> None:
    """Raise ``ValueError`` when ``answerer`` is unknown, or asks for generated answers and no
    language model is connected (``connected``: one given instead of the configured one)."""
    if answerer not in ANSWERERS:
        raise ValueError(f"--answerer {answerer}: give one of {', '.join(ANSWERERS)}")
    if answerer == "extractive" or connected is not None:
        return
    if not (settings.llm_base_url or settings.llm_gguf):
        raise ValueError(
            f"--answerer {answerer} needs a language model: set KHABAR_LLM_BASE_URL (an "
            "OpenAI-compatible endpoint such as http://127.0.0.1:8080/v1) or KHABAR_LLM_GGUF "
            "(a local model file)"
        )
    try:
        components().llm(settings)
    except components().LLMNotConfigured as err:
        raise ValueError(str(err)) from err


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
    stored = components().stored_indexes(settings)
    if name not in stored:
        there = [n for n in stored if n.startswith("eval-")]
        where = settings.data_dir if settings.chroma_mode == "embedded" else "the Chroma server"
        raise ValueError(
            f"--reuse-index {name}: there is no such index in {where} (eval indexes there: "
            f"{', '.join(there) or 'none'}); give one of those, or leave the option out to build one"
        )


class KhabarPipeline:
    """Khabar itself: its ingestion builds the index and :class:`rag.service.QAService` answers,
    with one answerer ("extractive", or "generated" as ``khabar-generated``).

    Side by side (``--answerer both``) the generated pipeline follows the extractive one
    (``follows``): it shares its index and service and answers from the very passages and evidence
    the extractive answerer got for the same question, so the two columns differ only in who
    wrote the answer. Asked alone, the generated answerer takes the path ``khabar ask`` takes,
    where the model may first rewrite a follow-up question before it is searched.
    """

    def __init__(
        self,
        settings: Settings,
        top_k: int,
        rebuild: bool = False,
        *,
        answerer: str = "extractive",
        connected: Any = None,
        follows: KhabarPipeline | None = None,
    ):
        # A copy with the evaluation's retrieval depth and answerer: the user's settings object is
        # not touched, and a configured "generated" does not demand a model of an extractive run.
        self.settings = settings.model_copy(update={"top_k": top_k, "answerer": answerer})
        self.rebuild = rebuild
        self.answerer = answerer
        self.name = "khabar" if answerer == "extractive" else f"khabar-{answerer}"
        self.connected = connected  # a llama-index LLM instead of the configured one (tests)
        self.follows = follows
        self.index_name = ""
        # ``khabar eval --reuse-index``: an existing eval index, used whatever the recipe says now.
        self.reuse_index = ""
        self._service: Any = None
        self._info: BuildInfo | None = None
        # Searches kept for a follower: (question, history) -> (search, evidence, retrieve ms).
        self._searches: dict[tuple[str, tuple[str, ...], str], tuple[Any, list[Evidence], float]] | None = (
            None
        )

    def describe(self) -> dict[str, Any]:
        s = self.settings
        return {
            "name": self.name,
            "index_name": self.index_name,
            "index_given": bool(self.reuse_index),
            "top_k": s.top_k,
            "retrieval_shared_with": self.follows.name if self.follows else "",
            **components().index_spec(s).describe(),
            **s.model_dump(mode="json", include=ANSWER_SETTINGS | GENERATION_SETTINGS),
            "llm_api_key_set": bool(s.llm_api_key.get_secret_value()),
            "llm_given": type(self.connected).__name__ if self.connected is not None else "",
        }

    def build(self, articles: ArticleSet, progress: BuildProgress | None = None) -> BuildInfo:
        if self.follows is not None:
            # The leader's index, built (or checked) once for both.
            self.reuse_index = self.follows.reuse_index
            info = self.follows._info or self.follows.build(articles, progress)
            self.index_name = self.follows.index_name
            return info
        self._info = self._build(articles, progress)
        return self._info

    def _build(self, articles: ArticleSet, progress: BuildProgress | None = None) -> BuildInfo:
        self.index_name = self.reuse_index or eval_index_name(
            [f.sha256 for f in articles.files], self.settings
        )
        if self.reuse_index:
            check_reusable(self.settings, self.reuse_index, self.rebuild)
        folder = components().index_path(self.settings, self.index_name)
        if self.rebuild and folder.exists():
            components().open_index(self.settings, self.index_name).drop()
        existed = self.index_name in components().stored_indexes(self.settings)

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

    def service(self) -> Any:
        """The question-answering service over the eval index (the leader's, for a follower)."""
        if self.follows is not None:
            return self.follows.service()
        if self._service is None:
            if not self.index_name:
                raise RuntimeError("build() the evaluation index before asking questions")
            self._service = components().service(self.settings, self.index_name, connected=self.connected)
        return self._service

    def ask(self, question: str, history: Sequence[str] = (), now: str = "") -> Answer:
        """``now``: the question's date, what its time words are read against ("": today)."""
        if self.follows is None and self._searches is None:
            return self.service().ask(question, history=history, answerer=self.answerer, now=now or None)
        # Side by side: search once (the leader), answer from that search with each answerer.
        searches = self.follows._searches if self.follows is not None else self._searches
        assert searches is not None
        service = self.service()
        key = (question, tuple(history), now)
        t0 = time.perf_counter()
        if key not in searches:
            found = service.search(question, None, history, now=now or None)
            evidence = service.evidence_for(found, found.passages)
            searches[key] = (found, evidence, (time.perf_counter() - t0) * 1000 - found.query.embed_ms)
        found, evidence, retrieve_ms = searches[key]
        t1 = time.perf_counter()
        answer = found.date_answer(
            service.answerer_for(self.answerer).answer(found.query, evidence, found.passages)
        )
        answer_ms = (time.perf_counter() - t1) * 1000
        # Retrieval as the leader timed it (a follower did not search again); answering, its own.
        embed_ms = found.query.embed_ms
        answer.timings_ms = {
            "embed": embed_ms,
            "retrieve": round(retrieve_ms, 2),
            "answer": round(answer_ms, 2),
            "total": round(embed_ms + retrieve_ms + answer_ms, 2),
        }
        return answer

    def share_searches(self) -> None:
        """Keep every question's search for a follower (``--answerer both``)."""
        self._searches = {}


def khabar_pipelines(
    settings: Settings, top_k: int, rebuild: bool = False, answerer: str = "", connected: Any = None
) -> list[KhabarPipeline]:
    """Khabar with the answerer asked for ("": the configured one); "both" gives the extractive
    pipeline and the generated one following it, in that order."""
    answerer = answerer or settings.answerer
    if answerer != "both":
        return [KhabarPipeline(settings, top_k, rebuild, answerer=answerer, connected=connected)]
    leader = KhabarPipeline(settings, top_k, rebuild, answerer="extractive", connected=connected)
    leader.share_searches()
    follower = KhabarPipeline(
        settings, top_k, rebuild, answerer="generated", connected=connected, follows=leader
    )
    return [leader, follower]
