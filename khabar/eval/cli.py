"""``khabar eval``: the command, its progress display and its terminal summary.

It lives here, beside the harness, and ``khabar/cli.py`` only registers it, so the evaluation
can grow without touching the main CLI. Exit codes: 0 done, 1 a ``--fail-under`` threshold not
met, 2 a usage or input error (nothing was run).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from khabar import settings as settings_mod
from khabar.eval.build import BuildInfo
from khabar.eval.data import (
    ArticleSet,
    EvalDataError,
    Question,
    SourceFile,
    check_gold_ids,
    load_articles,
    load_questions,
    sha256_file,
)
from khabar.eval.khabar_pipeline import ANSWERERS, check_answerer, check_reusable
from khabar.eval.pipelines import PIPELINES, make_pipelines
from khabar.eval.runner import Observer, check_thresholds, parse_threshold, run_eval

__all__ = ["eval_command"]

console = Console()
err_console = Console(stderr=True)


class RichObserver(Observer):
    """Rich bars on stderr: a spinner while the index builds, then questions with questions/s."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: Any = None

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def build_started(self, pipeline: str, articles: int, files: int) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn(f"[bold]{pipeline}[/bold]: indexing {articles} articles"),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[chunks]} chunks embedded"),
            TimeElapsedColumn(),
            console=err_console,
        )
        self._progress.start()
        self._task = self._progress.add_task("build", total=files, chunks=0)

    def build_progress(self, files_done: int, total_files: int, chunks: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=files_done, total=total_files, chunks=chunks)

    def build_finished(self, pipeline: str, info: BuildInfo) -> None:
        self._stop()
        if info.status == "reused":
            err_console.print(f"{pipeline}: index {info.index_name} reused ({info.index_chunks} chunks)")
        else:
            rate = f", {info.chunks_per_second:.1f} chunks/s" if info.chunks_per_second else ""
            err_console.print(
                f"{pipeline}: index {info.index_name} {info.status} in {info.seconds:.1f} s "
                f"({info.chunks_embedded} chunks{rate})"
            )
        for problem in info.problems:
            err_console.print(f"[yellow]index problem:[/yellow] {problem}")

    def asking_started(self, pipeline: str, total: int) -> None:
        self._progress = Progress(
            TextColumn(f"[bold]{pipeline}[/bold]: asking"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("· {task.fields[rate]:.2f} questions/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err_console,
        )
        self._progress.start()
        self._task = self._progress.add_task("ask", total=total, rate=0.0)

    def asked(self, pipeline: str, done: int, total: int) -> None:
        if self._progress is not None:
            elapsed = self._progress.tasks[0].elapsed or 1e-9
            self._progress.update(self._task, completed=done, rate=done / elapsed)

    def asking_finished(self, pipeline: str) -> None:
        self._stop()


def _usage_error(message: str) -> typer.Exit:
    err_console.print(f"[red]Usage error:[/red] {message}", soft_wrap=True)
    return typer.Exit(2)


def summary_table(name: str, result: dict[str, Any]) -> Table:
    """Overall and per-question-language metrics of one pipeline, as a Rich table."""
    from khabar.eval.report import TABLE_METRICS, format_value, label, shown_metrics

    metrics = result["metrics"]
    columns = {"overall": metrics["overall"], **metrics["by_language"]}
    table = Table(title=f"khabar eval · {name}")
    table.add_column("metric")
    for column in columns:
        table.add_column(column, justify="right")
    for metric in shown_metrics(columns.values(), TABLE_METRICS):
        table.add_row(label(metric), *(format_value(metric, c.get(metric)) for c in columns.values()))
    return table


def _print_summary(report: dict[str, Any]) -> None:
    from khabar.eval.report import format_value

    for name, result in report["pipelines"].items():
        console.print(summary_table(name, result))
        overall = result["metrics"]["overall"]
        index = result["index"]
        build = (
            f"index {index['index_name']} reused"
            if index["status"] == "reused"
            else f"index {index['index_name']} {index['status']} in {index['seconds']:.1f} s"
        )
        console.print(
            f"{name}: {overall['questions']} questions in {result['ask_seconds']:.1f} s "
            f"({format_value('questions_per_second', overall['questions_per_second'])}/s); {build}; "
            f"build {format_value('index_build_seconds', overall['index_build_seconds'])} s at "
            f"{format_value('index_chunks_per_second', overall['index_chunks_per_second'])} chunks/s"
        )
        reasons = result["metrics"].get("fallback_reasons") or {}
        if reasons:
            console.print(
                f"{name}: quoted answer shown instead of the model's: "
                + ", ".join(f"{kind} {n}" for kind, n in reasons.items())
            )


def _run_compare(dirs: tuple[Path, Path], out: Path | None) -> None:
    from khabar.eval.compare import compare_reports, delta_table, flip_table, render_compare_markdown
    from khabar.eval.report import load_report

    try:
        a, b = load_report(dirs[0]), load_report(dirs[1])
        comparison = compare_reports(a, b)
    except ValueError as err:
        raise _usage_error(str(err)) from err
    console.print(f"A = {dirs[0]} ({a.get('name')}), B = {dirs[1]} ({b.get('name')})")
    for c in comparison["pipelines"]:
        for warning in c["warnings"]:
            err_console.print(f"[yellow]warning:[/yellow] {warning}")
        table = Table(title=f"{c['a']} (A) vs {c['b']} (B): overall")
        delta = delta_table(c["overall"])
        for header in delta.headers:
            table.add_column(header, justify="left" if header == "metric" else "right")
        for row in delta.rows:
            style = "green" if row[-1] == "better" else "red" if row[-1] == "worse" else None
            table.add_row(*row, style=style)
        console.print(table)
        for what, flips in c["flips"].items():
            for direction in ("right_to_wrong", "wrong_to_right"):
                entries = flips[direction]
                console.print(f"[bold]By {what}, {direction.replace('_', ' ')}: {len(entries)}[/bold]")
                if entries:
                    rows = flip_table(entries)
                    t = Table(*rows.headers)
                    for row in rows.rows:
                        t.add_row(*row)
                    console.print(t)
        if c["only_in_a"] or c["only_in_b"]:
            console.print(f"{len(c['only_in_a'])} question(s) only in A, {len(c['only_in_b'])} only in B.")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(
            json.dumps(comparison, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        (out / "compare.md").write_text(render_compare_markdown(comparison), encoding="utf-8")
        console.print(f"Wrote {out / 'compare.md'} and compare.json")


def _command_line(
    questions: Path,
    articles: list[Path],
    top_k: int,
    out: Path | None,
    name: str,
    limit: int | None,
    pipelines: list[str],
    fail_under: list[str],
    answerer: str = "",
) -> list[str]:
    """The command as given, rebuilt from the parsed options (sys.argv is not ours under tests)."""
    args = ["khabar", "eval", "--questions", str(questions)]
    for a in articles:
        args += ["--articles", str(a)]
    args += ["--top-k", str(top_k), "--name", name]
    if out is not None:
        args += ["--out", str(out)]
    if limit:
        args += ["--limit", str(limit)]
    for p in pipelines:
        args += ["--pipeline", p]
    if answerer:
        args += ["--answerer", answerer]
    for f in fail_under:
        args += ["--fail-under", f]
    return [shlex.quote(a) for a in args]


# --- the steps of ``khabar eval`` (without --compare), in the order eval_command takes them ----------


@dataclass(frozen=True)
class _Request:
    """The command's arguments once checked: all are checked before any file is read."""

    questions: Path
    articles: list[Path]
    pipelines: list[str]  # as given (repeats too); the first (extractive, with both) is gated
    fail_under: list[str]  # as given, for the report's command line
    thresholds: list[tuple[str, float]]
    answerer: str = ""  # of the khabar pipeline: as given, else the configured one ("" without khabar)


def _check_arguments(
    questions: Path | None,
    articles: list[Path] | None,
    fail_under: list[str] | None,
    pipeline: list[str] | None,
) -> _Request:
    """Usage errors (exit 2): missing inputs, a malformed threshold, an unknown pipeline."""
    if questions is None or not articles:
        raise _usage_error(
            "give --questions FILE and at least one --articles FILE (or --compare DIR_A DIR_B)"
        )
    try:
        thresholds = [parse_threshold(t) for t in fail_under or []]
    except ValueError as err:
        raise _usage_error(str(err)) from err
    names = pipeline or ["khabar"]
    unknown = [p for p in names if p not in PIPELINES]
    if unknown:
        raise _usage_error(f"unknown pipeline {', '.join(unknown)}; available: {', '.join(PIPELINES)}")
    return _Request(questions, articles, names, fail_under or [], thresholds)


def _check_answerer(request: _Request, answerer: str | None) -> _Request:
    """The khabar pipeline's answerer (the configured one unless given); a usage error (exit 2)
    when it is unknown or needs a language model and none is connected."""
    if "khabar" not in request.pipelines:
        if answerer:
            raise _usage_error("--answerer chooses who answers in the khabar pipeline; add --pipeline khabar")
        return request
    settings = settings_mod.get_settings()
    chosen = answerer or settings.answerer
    try:
        check_answerer(settings, chosen)
    except ValueError as err:
        raise _usage_error(str(err)) from err
    return replace(request, answerer=chosen)


@dataclass(frozen=True)
class _Inputs:
    """The validated question and article files."""

    all_questions: list[Question]  # the whole file: its size is recorded even under --limit
    chosen: list[Question]  # the ones asked
    articles: ArticleSet


def _load_inputs(request: _Request, limit: int | None) -> _Inputs:
    """Every problem in the files at once (exit 2), before any index is built."""
    try:
        all_questions = load_questions(request.questions)
        article_set = load_articles(request.articles, settings_mod.get_settings().max_file_bytes)
        check_gold_ids(all_questions, article_set)
    except EvalDataError as err:
        err_console.print(str(err), markup=False, style="red", soft_wrap=True)
        raise typer.Exit(2) from err
    chosen = all_questions[:limit] if limit else all_questions
    return _Inputs(all_questions, chosen, article_set)


def _run(
    request: _Request,
    inputs: _Inputs,
    *,
    top_k: int,
    out: Path | None,
    name: str | None,
    limit: int | None,
    rebuild: bool,
    reuse_index: str = "",
) -> dict[str, Any]:
    """Build each pipeline's index and ask the questions, with progress bars: the report dict."""
    run_name = name or (
        out.name if out is not None else "eval-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    )
    settings = settings_mod.get_settings()
    pipelines = make_pipelines(request.pipelines, settings, top_k, rebuild, request.answerer)
    for p in pipelines:
        if reuse_index and hasattr(p, "reuse_index"):
            p.reuse_index = reuse_index
    questions_file = SourceFile(
        str(request.questions.resolve()), sha256_file(request.questions), len(inputs.all_questions)
    )
    command = _command_line(
        request.questions,
        request.articles,
        top_k,
        out,
        run_name,
        limit,
        request.pipelines,
        request.fail_under,
        request.answerer,
    )
    return run_eval(
        inputs.chosen,
        inputs.articles,
        pipelines,
        name=run_name,
        top_k=top_k,
        questions_file=questions_file,
        command=command,
        limit=limit,
        observer=RichObserver(),
    )


def _write_reports(report: dict[str, Any], out: Path) -> None:
    from khabar.eval.report import write_reports

    paths = write_reports(report, out)
    console.print("Wrote " + ", ".join(str(p) for p in paths.values()))


def _enforce_thresholds(report: dict[str, Any], pipeline: str, thresholds: list[tuple[str, float]]) -> None:
    """Exit 1 when ``pipeline``'s overall figures miss a --fail-under threshold."""
    failures = check_thresholds(report["pipelines"][pipeline]["metrics"]["overall"], thresholds)
    if failures:
        for failure in failures:
            err_console.print(f"[red]FAIL[/red] {pipeline}: {failure}", soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"[green]All {len(thresholds)} threshold(s) met[/green] ({pipeline}).")


def eval_command(
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Questions, JSONL (see shared/data/README.md).")
    ] = None,
    articles: Annotated[
        list[Path] | None,
        typer.Option(
            "--articles", help="Article files or folders to index (repeat); gold articles and distractors."
        ),
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Passages retrieved per question.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write report.json, report.md and report.html here.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name of this run in the reports.")] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under", metavar="METRIC=VALUE", help="Exit 1 when an overall metric is lower (repeat)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    pipeline: Annotated[
        list[str] | None, typer.Option("--pipeline", help=f"System(s) to evaluate: {', '.join(PIPELINES)}.")
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Rebuild the eval index even if one exists (after ingest code changes)."
        ),
    ] = False,
    reuse_index: Annotated[
        str,
        typer.Option(
            "--reuse-index",
            metavar="NAME",
            help="Answer from this existing eval index (eval-…) instead of the one named after the "
            "articles and the index recipe: for comparing answering changes when the ingest code "
            "changed but not what it stores. The report records it.",
        ),
    ] = "",
    answerer: Annotated[
        str | None,
        typer.Option(
            "--answerer",
            metavar="|".join(ANSWERERS),
            help="Who writes khabar's answers (default: the configured KHABAR_ANSWERER). 'generated' "
            "needs a language model (KHABAR_LLM_BASE_URL or KHABAR_LLM_GGUF); 'both' asks every question "
            "of each over one retrieval and reports them side by side (khabar, khabar-generated).",
        ),
    ] = None,
    time_aware: Annotated[
        bool | None,
        typer.Option(
            "--time-aware/--no-time-aware",
            help="Read each question's time words against its 'date' (default: KHABAR_TIME_AWARE); "
            "--no-time-aware measures without, for the ablation.",
        ),
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--compare", metavar="DIR_A DIR_B", help="Compare two report folders instead of running."
        ),
    ] = None,
) -> None:
    """Measure retrieval, answers, citations, abstention and speed on a question set.

    Indexes exactly the given articles (apart from your collection) and asks as `khabar ask` does.
    """
    if compare is not None:
        if questions or articles:
            raise _usage_error("--compare takes two report folders and no --questions/--articles")
        _run_compare(compare, out)
        return

    if time_aware is not None:
        settings_mod.configure(time_aware=time_aware)
    request = _check_answerer(_check_arguments(questions, articles, fail_under, pipeline), answerer)
    if reuse_index:
        try:
            check_reusable(settings_mod.get_settings(), reuse_index, rebuild)
        except ValueError as err:
            raise _usage_error(str(err)) from err
    inputs = _load_inputs(request, limit)
    report = _run(
        request,
        inputs,
        top_k=top_k,
        out=out,
        name=name,
        limit=limit,
        rebuild=rebuild,
        reuse_index=reuse_index,
    )
    _print_summary(report)
    if out is not None:
        _write_reports(report, out)
    if request.thresholds:
        _enforce_thresholds(report, next(iter(report["pipelines"])), request.thresholds)
