"""How well can the bundled model pick the answering sentence when the right paragraph is given?

Top-sentence accuracy (a gold answer in the answer's first quoted sentence) needs two things: the
right paragraph first, and the right sentence of it first. This script takes retrieval out of the
way: for every xquad-hi-dev question it scores the sentences of the gold paragraph (as stored at
ingestion) with each sentence scorer the bundled model offers, and counts how often the best one
holds a gold answer. That is a ceiling for any extractive answerer built on these scores: with a
perfect retriever it is the top-sentence accuracy. With ``--stock-report`` it is set against the
target "15 points above the stock pipeline's best-sentence anchor".

Run from the project root after ``khabar eval`` has built the xquad index (this script builds it
too if it is missing): ``python bench/sentence_ceiling.py [--stock-report bench/out/side/xquad/report.json]``.
Prints a table and writes ``bench/results/sentence_ceiling.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD = DATA / "eval" / "xquad-hi-dev"
DISTRACTORS = DATA / "corpora" / "bbc-hindi.jsonl"
OUT = ROOT / "bench" / "results" / "sentence_ceiling.json"
TARGET_LEAD = 0.15  # the target: top-sentence accuracy 15 points above the anchor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".khabar")
    parser.add_argument(
        "--stock-report", type=Path, default=None, help="A side-by-side `khabar eval` report.json."
    )
    args = parser.parse_args(argv)
    if not XQUAD.is_dir() or not DISTRACTORS.is_file():
        print(f"{XQUAD} or {DISTRACTORS} is absent: nothing to measure.", file=sys.stderr)
        return 0
    if args.stock_report is not None and not args.stock_report.is_file():
        parser.error(
            f"{args.stock_report} does not exist: run `khabar eval ... --pipeline khabar --pipeline stock "
            "--out DIR` first and pass DIR/report.json."
        )
    sys.path.insert(0, str(ROOT))
    from index.analysis import analyze
    from khabar import components
    from khabar.eval.data import load_articles, load_questions
    from khabar.eval.khabar_pipeline import KhabarPipeline
    from khabar.eval.metrics import answer_contains
    from khabar.settings import Settings
    from rag.evidence import term_overlap

    settings = Settings(data_dir=args.data_dir, top_k=10)
    info = KhabarPipeline(settings, top_k=10).build(load_articles([XQUAD / "articles.jsonl", DISTRACTORS]))
    service = components.service(settings, info.index_name)
    model = components.embedder(settings)
    aligner = components.word_aligner(settings, model)
    lexical_w, align_w = settings.evidence_lexical_weight, settings.alignment_weight

    scorers: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
        "cosine (the anchor's rule)": lambda f: f["cos"],
        f"cosine + {lexical_w} x term overlap (Khabar's evidence score)": lambda f: (
            f["cos"] + lexical_w * f["overlap"]
        ),
        "word alignment (layer-8 MaxSim)": lambda f: f["align"],
        f"cosine + {align_w} x word alignment": lambda f: f["cos"] + align_w * f["align"],
        "cosine + term overlap + word alignment": lambda f: (
            f["cos"] + lexical_w * f["overlap"] + align_w * f["align"]
        ),
    }
    hashes: dict[str, str] = {}
    hits: dict[str, dict[str, int]] = {}
    counts: dict[str, dict[str, int]] = {}
    for q in load_questions(XQUAD / "questions.jsonl"):
        gold = q.gold_ids[0]
        if gold not in hashes:
            hashes[gold] = str(service.index.manifest.content_of(gold))
        article = service.evidence.articles([hashes[gold]])[hashes[gold]]
        texts = [text for text, _, _ in article.rows]
        query = np.asarray(model.embed_query(q.question), dtype=np.float32)
        terms = set(analyze(q.question))
        features = {
            "cos": article.vectors @ query,
            "overlap": np.asarray([term_overlap(terms, t) for t in texts]),
            "align": np.asarray(aligner.maxsim(q.question, texts) if aligner else [0.0] * len(texts)),
        }
        holds = [answer_contains(t, q.answers) for t in texts]
        count = counts.setdefault(q.language, {"questions": 0, "answer in one sentence": 0})
        count["questions"] += 1
        count["answer in one sentence"] += any(holds)
        row = hits.setdefault(q.language, dict.fromkeys(scorers, 0))
        for name, score in scorers.items():
            row[name] += holds[int(np.argmax(score(features)))]

    result: dict[str, Any] = {
        "command": "python bench/sentence_ceiling.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "index": info.index_name,
        "by_language": {},
    }
    stock = json.loads(args.stock_report.read_text("utf-8")) if args.stock_report else None
    for language in sorted(hits):
        n = counts[language]["questions"]
        entry: dict[str, Any] = {
            "questions": n,
            "answer_in_one_sentence": round(counts[language]["answer in one sentence"] / n, 3),
            "gold_paragraph_given": {name: round(k / n, 3) for name, k in hits[language].items()},
        }
        if stock is not None:
            by_language = stock["pipelines"]["stock"]["metrics"]["by_language"][language]
            anchor = by_language["top_sentence_accuracy"]
            entry["stock_anchor_top_sentence"] = round(anchor, 3)
            entry["target_top_sentence"] = round(anchor + TARGET_LEAD, 3)
        result["by_language"][language] = entry
        inside = entry["answer_in_one_sentence"]
        print(f"{language} questions ({n}); a gold answer inside one sentence: {inside}")
        for name, share in entry["gold_paragraph_given"].items():
            print(f"  {share:.3f}  {name}")
        if stock is not None:
            target, anchor = entry["target_top_sentence"], entry["stock_anchor_top_sentence"]
            print(f"  target: {target:.3f} (stock anchor {anchor:.3f} + {TARGET_LEAD})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
