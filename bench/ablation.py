"""Ablation: what each part of Khabar's retrieval and answering adds, on xquad-hi-dev.

Why: every default in ``khabar/settings.py`` that shapes retrieval or answers (retrieval mode,
fusion, sentence-evidence weights, syndicated-copy folding, answer length) must be justified by
figures. This script asks the development questions once per configuration, each a step from
"dense only" towards the defaults, through the same runner and scoring as ``khabar eval``
(:func:`khabar.eval.runner.run_pipeline` with :class:`khabar.eval.khabar_pipeline.KhabarPipeline`), over
one shared index (the configurations differ only in settings that leave the index as it is).

The stock llama-index pipeline is the anchor: its figures come from a side-by-side
``khabar eval --pipeline khabar --pipeline stock`` report (``--stock-report``), because asking it
costs ~40 sentence embeddings per question; ``--with-stock`` runs it here instead.

Run from the project root: ``python bench/ablation.py [--limit N] [--stock-report PATH]``.
Prints the table and writes ``bench/results/ablation.json`` and ``bench/results/ablation.md``.
Exits 0 with a message when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from eval_index import add_index_options  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
XQUAD = DATA / "eval" / "xquad-hi-dev"
DISTRACTORS = DATA / "corpora" / "bbc-hindi.jsonl"

# Each step adds one thing to the line before it; the last line is the shipped default. The
# answer settings (sentences quoted, margin, decline threshold) stay at their defaults throughout,
# so answer figures differ only through what retrieval and evidence scoring hand the answerer.
PLAIN = {
    "dedup_threshold": 1.0,
    "passages_per_article": 0,
    "rerank_sentence_weight": 0.0,
    "rerank_lexical_weight": 0.0,
    "evidence_lexical_weight": 0.0,
    "evidence_rank_weight": 0.0,
    "alignment_weight": 0.0,
    "lexical_name_bridge": False,
    "lexicon": "off",
    "sentence_order": "hand",
}
# The defaults before the cross-script name bridge, the word list and the learned sentence order.
BEFORE_NAMES = {"lexical_name_bridge": False, "lexicon": "off", "sentence_order": "hand"}
HYBRID = {**PLAIN, "retrieval_mode": "hybrid", "fusion": "rrf", "lexical_weight_by_coverage": True}
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("dense only", {**PLAIN, "retrieval_mode": "dense"}),
    ("BM25 only, analyzer without stemming", {**PLAIN, "retrieval_mode": "lexical", "bm25_stemming": False}),
    ("BM25 only (our analyzer, stemmed)", {**PLAIN, "retrieval_mode": "lexical"}),
    (
        "BM25 only, 1 passage per article first",
        {**PLAIN, "retrieval_mode": "lexical", "passages_per_article": 1},
    ),
    ("hybrid, RRF, BM25 at full weight", {**HYBRID, "lexical_weight_by_coverage": False}),
    ("hybrid, weighted fusion, BM25 weight x coverage", {**HYBRID, "fusion": "weighted"}),
    ("hybrid, RRF, BM25 weight x coverage", HYBRID),
    ("+ sentence-aware rerank", {**HYBRID, "rerank_sentence_weight": 0.3}),
    ("+ BM25 support in the rerank", {**HYBRID, "rerank_sentence_weight": 0.3, "rerank_lexical_weight": 0.1}),
    (
        "+ sentence evidence (term overlap, passage rank)",
        {
            **HYBRID,
            "rerank_sentence_weight": 0.3,
            "rerank_lexical_weight": 0.1,
            "evidence_lexical_weight": 0.1,
            "evidence_rank_weight": 0.02,
        },
    ),
    ("+ syndicated-copy folding, 1 passage per article first", {**BEFORE_NAMES, "alignment_weight": 0.0}),
    (
        "+ cross-lingual word-alignment tie-breaks, passages tied within 0.01 among the top 3",
        {**BEFORE_NAMES, "alignment_passage_margin": 0.01, "alignment_passage_candidates": 3},
    ),
    ("+ passages tied within 0.02 among the first 8, before the top-k cut", BEFORE_NAMES),
    (
        "+ BM25 name bridge (Latin names also search Devanagari terms of their skeleton)",
        {"sentence_order": "hand", "lexicon": "off"},
    ),
    (
        "+ BM25 searches English words' translations (a word list: Debian's English-Hindi FreeDict)",
        {"sentence_order": "hand"},
    ),
    ("+ learned sentence order, with the words held in translation (= defaults)", {}),
]

COLUMNS = (
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr@10",
    "ndcg@10",
    "top_sentence_accuracy",
    "answer_accuracy",
    "mean_answer_chars",
    "wrongly_declined",
    "total_p50_ms",
)
LANGUAGES = ("en", "hi")


def figures(result: dict[str, Any]) -> dict[str, Any]:
    metrics = result["metrics"]
    out = {"all": {c: metrics["overall"].get(c) for c in COLUMNS}}
    for lang in LANGUAGES:
        if lang in metrics["by_language"]:
            out[lang] = {c: metrics["by_language"][lang].get(c) for c in COLUMNS}
    return out


def fmt(metric: str, value: Any) -> str:
    if value is None:
        return "–"
    if metric.endswith("_ms") or metric == "mean_answer_chars":
        return f"{value:.0f}"
    return f"{value:.3f}"


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [
        f"# Ablation on xquad-hi-dev ({meta['questions']} questions, {meta['articles']} articles)",
        "",
        f"Measured {meta['date']} at commit `{meta['commit'][:10]}`{' (dirty tree)' if meta['dirty'] else ''}"
        f" with `{meta['command']}`; top-k {meta['top_k']}. Latency is per question on a 2-core machine,",
        "row after row: the machine's speed drifts between rows, so compare latencies with",
        "`bench/latency.py` (both configurations asked back to back), not across this column.",
        "",
        "Every row answers with the default answer settings, including the decline thresholds (same",
        "language / cross-lingual), which are fitted to the evidence score of the last rows (cosine +",
        "term overlap + passage rank): rows without sentence evidence compare the bare cosine with them",
        "and decline more, which lowers their answer figures. Retrieval figures do not depend on them.",
        "Tried and not adopted: weighted fusion with the rerank (equal hit@1; Hindi hit@5 +1 question,",
        "hit@10 -2), rerank weight 0.4 (English hit@1 -1 point), rerank depth 30 (worse and slower),",
        "cross-script phonetic keys in BM25 (English-question BM25 hit@1 0.18 -> 0.37 alone, but the",
        "fused hit@1 fell), and, for English questions over Hindi text, pseudo-relevance feedback on the",
        "query vector (hit@1 -1 to -7 points), an article-mean vector in the rerank (-1 to -9), softmax",
        "pooling of sentence cosines instead of the max (hit@1 -0.7, hit@5 +0.3).",
        "",
    ]
    for scope, title in (
        ("all", "All questions"),
        ("en", "English questions (Hindi articles)"),
        ("hi", "Hindi questions"),
    ):
        lines += [
            f"## {title}",
            "",
            "| configuration | " + " | ".join(COLUMNS) + " |",
            "|---|" + "---:|" * len(COLUMNS),
        ]
        for row in rows:
            values = row["figures"].get(scope)
            if values:
                lines.append(f"| {row['name']} | " + " | ".join(fmt(c, values[c]) for c in COLUMNS) + " |")
        lines.append("")
    return "\n".join(lines)


def git_state() -> dict[str, Any]:
    import subprocess

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument(
        "--stock-report",
        type=Path,
        default=None,
        help="A khabar eval report.json holding a 'stock' pipeline run on the same set.",
    )
    parser.add_argument("--with-stock", action="store_true", help="Run the stock pipeline here (slow).")
    parser.add_argument("--out", type=Path, default=RESULTS)
    add_index_options(parser)
    args = parser.parse_args(argv)
    if not XQUAD.is_dir() or not DISTRACTORS.is_file():
        print(f"{XQUAD} or {DISTRACTORS} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    from khabar.eval.data import load_articles, load_questions
    from khabar.eval.khabar_pipeline import ANSWER_SETTINGS, KhabarPipeline
    from khabar.eval.pipelines import make_pipeline
    from khabar.eval.runner import Observer, run_pipeline
    from khabar.settings import Settings

    questions = load_questions(XQUAD / "questions.jsonl")[: args.limit]
    articles = load_articles([XQUAD / "articles.jsonl", DISTRACTORS])
    base = Settings(data_dir=args.data_dir)
    rows: list[dict[str, Any]] = []
    if args.with_stock:
        stock = run_pipeline(make_pipeline("stock", base, args.top_k), questions, articles, Observer())
        rows.append({"name": "stock llama-index (anchor)", "settings": {}, "figures": figures(stock)})
    elif args.stock_report:
        try:
            report = json.loads(args.stock_report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            parser.error(
                f"--stock-report {args.stock_report}: {err}. Write one with "
                "`khabar eval ... --pipeline khabar --pipeline stock --out DIR` and pass DIR/report.json"
            )
        if report["pipelines"].get("stock") is None:
            parser.error(f"{args.stock_report} holds no 'stock' pipeline")
        evaluated = report["inputs"]["questions"]["evaluated"]
        if evaluated != len(questions):
            print(f"note: the stock report evaluated {evaluated} questions, this run {len(questions)}")
        rows.append(
            {
                "name": "stock llama-index (anchor)",
                "settings": {},
                "figures": figures(report["pipelines"]["stock"]),
            }
        )
    for name, overrides in STEPS:
        settings = base.model_copy(update=overrides)
        pipeline = KhabarPipeline(settings, args.top_k)
        pipeline.reuse_index = args.reuse_index
        result = run_pipeline(pipeline, questions, articles, Observer())
        rows.append({"name": name, "settings": overrides, "figures": figures(result)})
        f = rows[-1]["figures"]["all"]
        print(
            f"{name:42} hit@1 {f['hit@1']:.3f}  top-sentence {f['top_sentence_accuracy']:.3f}  "
            f"chars {f['mean_answer_chars'] or 0:.0f}  p50 {f['total_p50_ms']:.0f} ms",
            flush=True,
        )

    meta = {
        "date": date.today().isoformat(),
        **git_state(),
        "command": "python bench/ablation.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "questions": len(questions),
        "articles": len(articles.articles),
        "top_k": args.top_k,
        "defaults": Settings().model_dump(mode="json", include=ANSWER_SETTINGS),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ablation.json").write_text(
        json.dumps({**meta, "rows": rows}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = markdown(rows, meta)
    kept = ""  # the RealTimeQA time-awareness section bench/time_ablation.py writes
    if (args.out / "ablation.md").is_file():
        old = (args.out / "ablation.md").read_text(encoding="utf-8")
        marker = "## RealTimeQA: time-aware answering"
        kept = "\n" + marker + old.split(marker, 1)[1] if marker in old else ""
    (args.out / "ablation.md").write_text(text + "\n" + kept, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
