"""Ablation of time-aware answering on RealTimeQA: the same questions with and without reading
their time words against the question's date.

Why: RealTimeQA's questions are a weekly news quiz ("… this week?", "… recently …") with the
date each was asked; its gold articles are CNN reports of that week, dated, among other weeks'
reports and undated BBC distractors. Time-awareness is on by default, so its figures must show
what it adds; the undated policy and the recency weight are settings whose defaults are chosen
here. Every row answers from one shared index (the rows differ only in answer-time settings),
through the same runner and scoring as ``khabar eval`` (each question's ``date`` is its "now").

Run from the project root: ``python bench/time_ablation.py --distractors 300 [--reuse-index NAME]``.
Writes ``bench/results/time_ablation.json`` and the RealTimeQA section of
``bench/results/ablation.md`` (``bench/ablation.py`` keeps it when it rewrites the file).
Exits 0 with a message when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from ablation import COLUMNS, figures, fmt, git_state  # bench/ is the script folder, on sys.path
from eval_index import add_index_options, distractors

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
REALTIMEQA = DATA / "eval" / "realtimeqa-dev"
SECTION = "## RealTimeQA: time-aware answering"

# Each row changes the time settings only; the last is the shipped default.
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("time-awareness off (time words are plain words)", {"time_aware": False}),
    ("on, undated articles kept at their own rank", {"time_undated": "keep"}),
    ("on, undated articles dropped under a time frame", {"time_undated": "drop"}),
    ("on, without the recency re-rank", {"time_recency_weight": 0.0}),
    ("on (= defaults: undated after the dated ones in the frame, recency re-rank)", {}),
]


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        SECTION,
        "",
        f"{meta['questions']} questions over {meta['articles']} articles ({meta['distractors']}); "
        f"measured {meta['date']} at commit `{meta['commit'][:10]}`"
        f"{' (dirty tree)' if meta['dirty'] else ''} with `{meta['command']}`; top-k {meta['top_k']}. "
        'Each question\'s `date` is its "now".',
        "",
        "| configuration | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for row in rows:
        values = row["figures"]["all"]
        lines.append(f"| {row['name']} | " + " | ".join(fmt(c, values[c]) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` at the end of ``path`` in place of an older one."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    head = text.split(SECTION)[0].rstrip()
    path.write_text((head + "\n\n" if head else "") + section, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument(
        "--distractors", type=int, default=None, help="A sample of N BBC English distractors (run_dev.py's)."
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    add_index_options(parser)
    args = parser.parse_args(argv)
    if not REALTIMEQA.is_dir():
        print(f"{REALTIMEQA} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    from khabar.eval.data import load_articles, load_questions
    from khabar.eval.khabar_pipeline import KhabarPipeline
    from khabar.eval.runner import Observer, run_pipeline
    from khabar.settings import Settings

    extra = distractors("realtimeqa-dev", args.distractors)
    questions = load_questions(REALTIMEQA / "questions.jsonl")
    articles = load_articles([REALTIMEQA / "articles.jsonl", extra])
    base = Settings(data_dir=args.data_dir)
    rows: list[dict[str, Any]] = []
    for name, overrides in STEPS:
        pipeline = KhabarPipeline(base.model_copy(update=overrides), args.top_k)
        pipeline.reuse_index = args.reuse_index
        result = run_pipeline(pipeline, questions, articles, Observer())
        per_question = {
            r["id"]: {
                "gold_rank": r["gold_rank"],
                "correct": r.get("correct"),
                "timeframe": r.get("timeframe", ""),
            }
            for r in result["questions"]
        }
        rows.append(
            {"name": name, "settings": overrides, "figures": figures(result), "questions": per_question}
        )
        f = rows[-1]["figures"]["all"]
        print(f"{name:60} hit@1 {f['hit@1']:.3f}  hit@5 {f['hit@5']:.3f}  answer {f['answer_accuracy']:.3f}")

    meta = {
        "date": date.today().isoformat(),
        **git_state(),
        "command": "python bench/time_ablation.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "questions": len(questions),
        "articles": len(articles.articles),
        "distractors": extra.name,
        "top_k": args.top_k,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "time_ablation.json").write_text(
        json.dumps({**meta, "rows": rows}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    section = markdown(rows, meta)
    write_section(args.out / "ablation.md", section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
