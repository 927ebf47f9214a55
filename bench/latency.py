"""`ask` latency of the defaults against dense retrieval alone, measured interleaved.

Why interleaved: on the shared 2-core machines the speed drifts by 20-30 % from one minute to the
next, so two configurations timed one after the other (as the ablation rows are) can differ by
the drift alone: the same defaults measured 1.49x and 1.65x dense-only in two ablation runs an
hour apart. Here every question is asked by both services back to back, in alternating order, so
drift falls on both alike and the ratio of medians is what the configurations cost.

Both services share the loaded model and the eval index of xquad-hi-dev (+ BBC Hindi), built by
``khabar eval`` or ``bench/ablation.py`` (this script builds it too if it is missing).
"Dense only" is the ablation's first row: dense retrieval, no rerank, no folding, no evidence
weights, no word alignment; the answer step (sentence evidence read from the index) is the same.

Run from the project root: ``python bench/latency.py [--limit N] [--repeat R]``.
Prints p50/p95 per question language and writes ``bench/results/latency.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from eval_index import add_index_options  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD = DATA / "eval" / "xquad-hi-dev"
DISTRACTORS = DATA / "corpora" / "bbc-hindi.jsonl"
OUT = ROOT / "bench" / "results" / "latency.json"
WARM_UP = 20  # questions asked by both services before timing (caches, lazy imports)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--repeat", type=int, default=1, help="Ask each question R times per service.")
    add_index_options(parser)
    args = parser.parse_args(argv)
    if not XQUAD.is_dir() or not DISTRACTORS.is_file():
        print(f"{XQUAD} or {DISTRACTORS} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from ablation import PLAIN

    from khabar import components
    from khabar.eval.data import load_articles, load_questions
    from khabar.eval.khabar_pipeline import KhabarPipeline
    from khabar.settings import Settings

    questions = load_questions(XQUAD / "questions.jsonl")[: args.limit]
    base = Settings(data_dir=args.data_dir, top_k=10)
    pipeline = KhabarPipeline(base, top_k=10)
    pipeline.reuse_index = args.reuse_index
    info = pipeline.build(load_articles([XQUAD / "articles.jsonl", DISTRACTORS]))
    dense_only = base.model_copy(update={**PLAIN, "retrieval_mode": "dense"})
    services = {
        "dense only": components.service(dense_only, info.index_name),
        "defaults": components.service(base, info.index_name),
    }
    names = list(services)
    for q in questions[:WARM_UP]:
        for service in services.values():
            service.ask(q.question)
    times: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for i, q in enumerate(questions * args.repeat):
        order = names if i % 2 == 0 else names[::-1]  # who goes first alternates
        for name in order:
            t0 = time.perf_counter()
            services[name].ask(q.question)
            elapsed = (time.perf_counter() - t0) * 1000
            times[name].setdefault(q.language, []).append(elapsed)
            times[name].setdefault("all", []).append(elapsed)

    result: dict[str, Any] = {
        "command": "python bench/latency.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "index": info.index_name,
        "questions": len(questions),
        "repeat": args.repeat,
        "by_language": {},
    }
    header = ("questions", "dense p50", "defaults p50", "ratio", "dense p95", "defaults p95")
    print(f"{header[0]:10} {header[1]:>10} {header[2]:>13} {header[3]:>6} {header[4]:>10} {header[5]:>13}")
    for scope in sorted(times["defaults"], key=lambda s: (s != "all", s)):
        dense, full = times["dense only"][scope], times["defaults"][scope]
        row = {
            "n": len(full),
            "dense_only_p50_ms": round(statistics.median(dense), 1),
            "defaults_p50_ms": round(statistics.median(full), 1),
            "p50_ratio": round(statistics.median(full) / statistics.median(dense), 3),
            "dense_only_p95_ms": round(percentile(dense, 0.95), 1),
            "defaults_p95_ms": round(percentile(full, 0.95), 1),
        }
        result["by_language"][scope] = row
        print(
            f"{scope:10} {row['dense_only_p50_ms']:>10} {row['defaults_p50_ms']:>13} {row['p50_ratio']:>6} "
            f"{row['dense_only_p95_ms']:>10} {row['defaults_p95_ms']:>13}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
