"""Run an evaluation: build each pipeline's index, ask every question, score, summarise.

The result is one JSON-ready dict (the content of ``report.json``), holding any number of
pipelines under ``"pipelines"`` so that Khabar and a baseline can be reported side by side.
Nothing here prints: progress goes to an :class:`Observer`, which the CLI draws as Rich bars.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from khabar.eval.build import BuildInfo, Pipeline
from khabar.eval.data import ArticleSet, Question, SourceFile
from khabar.eval.generation import fallback_reasons
from khabar.eval.scoring import METRICS, RANK_CUTOFF, breakdowns, gate_metrics, score_question, summarise

__all__ = [
    "DEFINITIONS",
    "SCHEMA",
    "Observer",
    "check_thresholds",
    "parse_threshold",
    "run_eval",
]

SCHEMA = "khabar-eval/1"

DEFINITIONS = {
    "retrieval": (
        "Article level, answerable questions only. hit@k: a passage of a gold article is among the "
        "first k retrieved passages (passage positions, gold_rank(..., unique=False), as in "
        "shared/data/README.md). MRR@10: 1/that passage rank, 0 past 10. nDCG@10: binary relevance "
        "over the first 10 distinct retrieved articles."
    ),
    "answer_accuracy": (
        "Answerable questions: a gold answer string occurs in the answer after NFC and case-folding, "
        "citation markers stripped. A declined answer is wrong. top-sentence accuracy: the same on "
        "the answer's first quoted sentence only (its first citation's sentence; the first sentence "
        "of the text when it cites nothing). token F1: SQuAD-style, index.text tokens, best gold."
    ),
    "citations": (
        "precision: share of an answer's citations that point at a gold article (answerable "
        "questions that were answered with citations). support: share of the answer's cited claims "
        "that occur verbatim in the passage they cite (answers given)."
    ),
    "abstention": (
        "declined when unanswerable (= decline recall) over answerable=false questions; declined "
        "when answerable over the others; decline precision: declined questions that were "
        "unanswerable."
    ),
    "generated": (
        "Answers written by a language model (--answerer generated). answer accuracy (either "
        "script): as answer accuracy, or every number and name of a gold string is in the answer "
        "in the other script (100 and १००, Jurel and जुरेल; numbers by value, names by consonant "
        "skeleton). asked the language model: questions not declined before the model was asked. "
        "generated sentences verified: of all sentences the model wrote, the share that passed "
        "the checks against the passage they cite. fallbacks: of the questions the model was "
        "asked, the share answered with the quoted answer instead (reasons counted below each "
        "pipeline). completion tokens: as the server reports them, else streamed pieces."
    ),
    "latency": "Per question: retrieval = embed + retrieve; answering = evidence scoring + answer.",
    "language": (
        "Breakdowns by question language, and by question language x gold-article language "
        "('mixed' when gold articles differ in language, 'none' for unanswerable questions)."
    ),
}


class Observer:
    """Progress callbacks; the default does nothing (tests, scripts)."""

    def build_started(self, pipeline: str, articles: int, files: int) -> None: ...

    def build_progress(self, files_done: int, total_files: int, chunks: int) -> None: ...

    def build_finished(self, pipeline: str, info: BuildInfo) -> None: ...

    def asking_started(self, pipeline: str, total: int) -> None: ...

    def asked(self, pipeline: str, done: int, total: int) -> None: ...

    def asking_finished(self, pipeline: str) -> None: ...


def _run_level_metrics(info: BuildInfo, seconds: float, n: int) -> dict[str, Any]:
    """Index build time and speed: this run's when it built the index, else the first build's."""
    first = info.first_build or {}
    if info.status == "built":
        build_seconds, rate = info.seconds, info.chunks_per_second
    else:
        build_seconds, rate = first.get("seconds"), first.get("chunks_per_second")
    return {
        "questions_per_second": round(n / seconds, 3) if seconds > 0 else None,
        "index_build_seconds": build_seconds,
        "index_chunks_per_second": rate,
    }


def run_pipeline(
    pipeline: Pipeline, questions: Sequence[Question], articles: ArticleSet, observer: Observer
) -> dict[str, Any]:
    """Build, ask every question through ``pipeline.ask``, and score: one pipeline's report part."""
    observer.build_started(pipeline.name, len(articles.articles), len(articles.files))
    info = pipeline.build(articles, observer.build_progress)
    observer.build_finished(pipeline.name, info)

    records: list[dict[str, Any]] = []
    if questions:
        # One unscored warm-up question: the first call pays one-off costs (opening the index,
        # the first forward pass), which would otherwise land in one question's latency.
        pipeline.ask(questions[0].question)
    observer.asking_started(pipeline.name, len(questions))
    started = time.perf_counter()
    for n, question in enumerate(questions, 1):
        # The question's date is its "now": "this week" is the week it was asked in.
        answer = pipeline.ask(question.question, question.history, question.date)
        records.append(score_question(question, answer, articles.language_of(question.gold_ids)))
        observer.asked(pipeline.name, n, len(questions))
    seconds = time.perf_counter() - started
    observer.asking_finished(pipeline.name)

    overall = {**summarise(records), **_run_level_metrics(info, seconds, len(records))}
    return {
        "config": pipeline.describe(),
        "index": info.to_dict(),
        "ask_seconds": round(seconds, 3),
        "metrics": {"overall": overall, **breakdowns(records), "fallback_reasons": fallback_reasons(records)},
        "questions": records,
    }


def run_eval(
    questions: Sequence[Question],
    articles: ArticleSet,
    pipelines: Sequence[Pipeline],
    *,
    name: str,
    top_k: int,
    questions_file: SourceFile,
    command: Sequence[str] = (),
    limit: int | None = None,
    observer: Observer | None = None,
) -> dict[str, Any]:
    """The whole evaluation as the ``report.json`` dict; pipelines run one after the other."""
    observer = observer or Observer()
    created = datetime.now(UTC).isoformat(timespec="seconds")
    results = {p.name: run_pipeline(p, questions, articles, observer) for p in pipelines}
    return {
        "schema": SCHEMA,
        "name": name,
        "created": created,
        "command": list(command),
        "top_k": top_k,
        "rank_cutoff": RANK_CUTOFF,
        "limit": limit,
        "definitions": DEFINITIONS,
        "inputs": {
            "questions": {**vars(questions_file), "evaluated": len(questions)},
            "question_languages": dict(Counter(q.language for q in questions)),
            "articles": [vars(f) for f in articles.files],
            "article_count": len(articles.articles),
            "article_languages": dict(Counter(a.language or "unknown" for a in articles.articles.values())),
        },
        "pipelines": results,
    }


# --- --fail-under ------------------------------------------------------------------------------


def parse_threshold(text: str) -> tuple[str, float]:
    """``"hit@5=0.9"`` -> ``("hit@5", 0.9)``; ValueError naming the valid metrics otherwise.

    Only higher-is-better metrics can be gated ("fail under"); rates must lie in [0, 1], which
    catches "80" meant as 80 %.
    """
    valid = gate_metrics()
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"--fail-under takes METRIC=VALUE, got {text!r}; metrics: {', '.join(valid)}")
    if name not in valid:
        raise ValueError(f"unknown metric {name!r} for --fail-under; valid: {', '.join(valid)}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"--fail-under {name}: {raw!r} is not a number") from None
    if METRICS[name].kind == "rate" and not 0 <= value <= 1:
        raise ValueError(f"--fail-under {name}: rates run from 0 to 1, got {value}")
    return name, value


def check_thresholds(overall: dict[str, Any], thresholds: Sequence[tuple[str, float]]) -> list[str]:
    """One message per threshold not met; a metric that was not measured (None) fails too."""
    failures = []
    for name, wanted in thresholds:
        got = overall.get(name)
        if got is None:
            failures.append(f"{name} was not measured in this run (needed >= {wanted:g})")
        elif got < wanted:
            failures.append(f"{name} = {got:.4g} is under {wanted:g}")
    return failures
