"""Ask latency of two checkouts of Khabar side by side: is a code change slower?

Why: a refactor must not slow answering, and sequential runs on this machine drift more than the
difference being looked for. So each checkout answers in a worker process of its own (its code on
``PYTHONPATH``, its own eval data dir, the same questions), and the two are asked back to back for
every question, alternating who goes first, as ``bench/latency.py`` does for two configurations.

    python bench/code_latency.py --before ../khabar-old --before-data ../old/.khabar \\
        --after . --after-data .khabar [--limit 200]

Each data dir must already hold the xquad-hi-dev eval index for its checkout (``khabar eval`` or
``bench/run_dev.py`` builds it). Prints p50/p95 per checkout and their ratio, writes
``bench/results/code_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from latency import percentile  # bench/ is on the path when a script here runs

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD = DATA / "eval" / "xquad-hi-dev"
DISTRACTORS = DATA / "corpora" / "bbc-hindi.jsonl"
OUT = ROOT / "bench" / "results" / "code_latency.json"
WARM_UP = 20
TIMEOUT_S = 600  # one answer (or the worker's start) taking longer than this is a failure

# Runs inside each checkout: builds (reuses) the eval index and the service with that checkout's
# own code, then answers one question per input line with the elapsed milliseconds.
WORKER = r"""
import json, sys, time
from pathlib import Path
data_dir, articles = sys.argv[1], [Path(p) for p in sys.argv[2:]]
from khabar.settings import Settings
settings = Settings(data_dir=data_dir, top_k=10)
try:
    from khabar.eval.data import load_articles
    from khabar.eval.khabar_pipeline import KhabarPipeline
except ImportError:  # checkouts from before the eval moved to khabar/
    from rag.eval.data import load_articles
    from rag.eval.pipelines import KhabarPipeline
pipeline = KhabarPipeline(settings, top_k=10)
pipeline.build(load_articles(articles))
pipeline.ask("warm-up")
print(json.dumps({"ready": pipeline.index_name}), flush=True)
for line in sys.stdin:
    question = json.loads(line)
    t0 = time.perf_counter()
    answer = pipeline.ask(question)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ms": ms, "answer": answer.text}), flush=True)
"""


class Worker:
    def __init__(self, code: Path, data_dir: Path):
        env = {**os.environ, "PYTHONPATH": str(code.resolve())}
        self.code = code
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(data_dir), str(XQUAD / "articles.jsonl"), str(DISTRACTORS)],
            cwd=code,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.index = self._read()["ready"]

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker for {self.code} stopped (see its stderr above)")
        return json.loads(line)

    def ask(self, question: str) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(question) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=TIMEOUT_S)


def _commit(code: Path) -> str:
    """The checkout's commit (not its path, which only means something on this machine)."""
    got = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return got.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="The checkout before the change.")
    parser.add_argument("--before-data", type=Path, required=True, help="Its data dir.")
    parser.add_argument("--after", type=Path, default=ROOT, help="The checkout after it (default: this).")
    parser.add_argument("--after-data", type=Path, default=ROOT / ".khabar")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    args = parser.parse_args(argv)
    if not XQUAD.is_dir() or not DISTRACTORS.is_file():
        print(f"{XQUAD} or {DISTRACTORS} is absent: nothing to measure.", file=sys.stderr)
        return 0
    questions = [json.loads(line)["question"] for line in (XQUAD / "questions.jsonl").open(encoding="utf-8")]
    questions = questions[: args.limit]
    workers = {"before": Worker(args.before, args.before_data), "after": Worker(args.after, args.after_data)}
    try:
        for q in questions[:WARM_UP]:
            for worker in workers.values():
                worker.ask(q)
        times: dict[str, list[float]] = {name: [] for name in workers}
        same = 0
        for i, q in enumerate(questions):
            order = list(workers) if i % 2 == 0 else list(workers)[::-1]  # who goes first alternates
            got = {name: workers[name].ask(q) for name in order}
            for name, reply in got.items():
                times[name].append(reply["ms"])
            same += got["before"]["answer"] == got["after"]["answer"]
    finally:
        for worker in workers.values():
            worker.close()
    result = {
        "command": "python bench/code_latency.py --before CHECKOUT --before-data DIR --after . "
        "--after-data DIR",
        "questions": len(questions),
        "same_answer_text": same,
        "load_average_after": os.getloadavg(),
        "checkouts": {},
    }
    for name, values in times.items():
        result["checkouts"][name] = {
            "commit": _commit(workers[name].code),
            "index": workers[name].index,
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
        }
    before, after = result["checkouts"]["before"], result["checkouts"]["after"]
    result["p50_ratio_after_over_before"] = round(after["p50_ms"] / before["p50_ms"], 3)
    result["p95_ratio_after_over_before"] = round(after["p95_ms"] / before["p95_ms"], 3)
    for name in ("before", "after"):
        row = result["checkouts"][name]
        print(f"{name:7} p50 {row['p50_ms']:>7} ms   p95 {row['p95_ms']:>7} ms")
    p50, p95 = result["p50_ratio_after_over_before"], result["p95_ratio_after_over_before"]
    print(f"after / before: p50 {p50}, p95 {p95}")
    print(f"same answer text on {same} of {len(questions)} questions")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
