"""Run ``khabar eval`` on the development question sets and keep a dated summary.

Why: one command that measures the whole system (retrieval, answers, citations, abstention,
speed) on the same data every time, so a change can be judged against the last committed
figures in ``bench/results/``. The sets (``../shared/data``, see its README):

* ``xquad-hi-dev``: 578 questions (289 English + 289 Hindi) over 60 Hindi paragraphs, with the
  344 BBC Hindi articles as distractors; the cross-lingual case.
* ``realtimeqa-dev``: 29 English news-quiz questions over 29 CNN articles, with the 2095 BBC
  English articles as distractors.

Each set goes through the real CLI (a subprocess of ``khabar eval``), so what is measured is
exactly what a user runs. Reports go to ``bench/out/<set>/`` (gitignored); the summary to
``bench/results/dev-<date>.json`` (meant to be committed). ``--distractors N`` replaces each
distractor corpus by a fixed random sample of N articles (seed 0) for quicker runs; the
summary records N, since figures with fewer distractors are not comparable with full runs.

Run from anywhere: ``python bench/run_dev.py [--sets xquad-hi-dev] [--distractors 300]``.
Exits 0 with a message when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results"
SETS = {  # set -> distractor corpus
    "xquad-hi-dev": "bbc-hindi.jsonl",
    "realtimeqa-dev": "bbc-english.jsonl",
}
SUMMARY_METRICS = (
    "questions",
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr@10",
    "answer_accuracy",
    "top_sentence_accuracy",
    "token_f1",
    "citation_precision",
    "citation_support",
    "wrongly_declined",
    "retrieval_p50_ms",
    "retrieval_p95_ms",
    "answer_p50_ms",
    "answer_p95_ms",
    "questions_per_second",
    "index_build_seconds",
    "index_chunks_per_second",
)


def distractor_sample(corpus: Path, n: int) -> Path:
    """A fixed random sample of ``n`` articles of ``corpus`` (seed 0, original order kept).

    Written only when its content changes, so the eval index built from it is reused.
    """
    lines = [line for line in corpus.read_text(encoding="utf-8").split("\n") if line.strip()]
    if n >= len(lines):
        return corpus
    keep = sorted(random.Random(0).sample(range(len(lines)), n))
    text = "".join(lines[i] + "\n" for i in keep)
    path = OUT / "distractors" / f"{corpus.stem}-sample{n}.jsonl"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def parse_distractors(values: list[str]) -> dict[str, int | None]:
    """``["300"]`` -> every set 300; ``["realtimeqa-dev=300"]`` -> that set only (None: all)."""
    counts: dict[str, int | None] = dict.fromkeys(SETS)
    for value in values:
        name, sep, number = value.rpartition("=")
        if sep and name not in SETS:
            raise ValueError(f"--distractors {value}: unknown set {name!r} (sets: {', '.join(SETS)})")
        if not number.isdigit():
            raise ValueError(f"--distractors {value}: N must be a whole number")
        for target in [name] if sep else list(SETS):
            counts[target] = int(number)
    return counts


def run_set(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``khabar eval`` on one set; return its summary (raises on a failed run)."""
    folder = DATA / "eval" / name
    corpus = DATA / "corpora" / SETS[name]
    count = args.distractor_counts[name]
    distractors = corpus if count is None else distractor_sample(corpus, count)
    out = OUT / name
    command = [
        sys.executable,
        "-m",
        "khabar.cli",
        "--data-dir",
        str(args.data_dir),
        "eval",
        "--questions",
        str(folder / "questions.jsonl"),
        "--articles",
        str(folder / "articles.jsonl"),
    ]
    if count != 0:
        command += ["--articles", str(distractors)]
    command += ["--top-k", str(args.top_k), "--out", str(out), "--name", f"{name}-dev"]
    if args.limit:
        command += ["--limit", str(args.limit)]
    if args.rebuild:
        command += ["--rebuild"]
    print(f"\n== {name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"khabar eval failed on {name} (exit {done.returncode})")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    result = report["pipelines"]["khabar"]
    n_distractors = sum(1 for line in distractors.open(encoding="utf-8") if line.strip())
    return {
        "questions_file": (folder / "questions.jsonl").relative_to(DATA).as_posix(),
        "articles": report["inputs"]["article_count"],
        "distractors": 0 if count == 0 else n_distractors,
        "distractors_sampled": count is not None and count != 0 and distractors != corpus,
        "distractor_corpus": SETS[name],
        "top_k": report["top_k"],
        "limit": report["limit"],
        "wall_seconds": round(wall, 1),
        "ask_seconds": result["ask_seconds"],
        "index": result["index"],
        "overall": result["metrics"]["overall"],
        "by_language": result["metrics"]["by_language"],
        "by_language_pair": result["metrics"]["by_language_pair"],
        "report": (out / "report.json").relative_to(ROOT).as_posix(),
    }


def git_state() -> dict[str, Any]:
    def git(*argv: str) -> str:
        try:
            return subprocess.run(
                ["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def print_table(sets: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from khabar.eval.report import format_value, label

    columns: dict[str, dict[str, Any]] = {}
    for name, s in sets.items():
        columns[name] = s["overall"]
        if len(s["by_language"]) > 1:
            for lang, metrics in s["by_language"].items():
                columns[f"{name} ({lang})"] = metrics
    table = Table(title="khabar eval on the dev sets")
    table.add_column("metric")
    for column in columns:
        table.add_column(column, justify="right")
    for metric in SUMMARY_METRICS:
        table.add_row(label(metric), *(format_value(metric, c.get(metric)) for c in columns.values()))
    Console().print(table)
    for name, s in sets.items():
        index = s["index"]
        print(
            f"{name}: {s['articles']} articles ({s['distractors']} distractors), index {index['index_name']} "
            f"{index['status']} ({index['index_chunks']} chunks); wall {s['wall_seconds']:.0f} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument(
        "--distractors",
        nargs="+",
        default=[],
        metavar="[SET=]N",
        help="Use a fixed sample of N distractor articles (0: none) for every set, or SET=N for one; "
        "default: the whole corpus.",
    )
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions of each set.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("KHABAR_DATA_DIR", ROOT / ".khabar")),
        help="Where the eval indexes live (default: the project's .khabar, beside the user's index).",
    )
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the eval indexes.")
    parser.add_argument(
        "--results", type=Path, default=None, help="Summary file (default bench/results/dev-<date>.json)."
    )
    args = parser.parse_args(argv)
    try:
        args.distractor_counts = parse_distractors(args.distractors)
    except ValueError as err:
        parser.error(str(err))

    if not DATA.is_dir():
        print(
            f"{DATA} is absent: the development data lives beside the project. Nothing to run.",
            file=sys.stderr,
        )
        return 0
    missing = [p for p in (DATA / "eval", DATA / "corpora") if not p.is_dir()]
    if missing:
        print(f"{', '.join(map(str, missing))} missing under {DATA}. Nothing to run.", file=sys.stderr)
        return 0

    started = time.perf_counter()
    sets: dict[str, dict[str, Any]] = {}
    for name in args.sets:
        try:
            sets[name] = run_set(name, args)
        except RuntimeError as err:
            print(err, file=sys.stderr)
            return 1
    summary = {
        "date": date.today().isoformat(),
        "git": git_state(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "command": ["python", "bench/run_dev.py", *(argv if argv is not None else sys.argv[1:])],
        "distractors": {name: "all" if n is None else n for name, n in args.distractor_counts.items()},
        "total_wall_seconds": round(time.perf_counter() - started, 1),
        "sets": sets,
    }
    path = args.results or RESULTS / f"dev-{summary['date']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print_table(sets)
    print(f"Total {summary['total_wall_seconds']:.0f} s. Summary: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
