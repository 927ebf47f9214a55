"""How much more evidence should a question need when its best passage never mentions its names?

``rag/names.py`` flags a question whose capitalised names the passage of its best sentence does
not mention in either script; the answerer then adds ``KHABAR_UNMENTIONED_NAME_MARGIN`` to the
decline threshold. This asks the real pipeline (never declining) for every case and reports, for
a range of margins, the share declined of each kind of question:

* answerable: xquad-hi-dev (English and Hindi, gold article retrieved) and realtimeqa-dev
  (English over English, over its own index);
* unanswerable: xquad-hi-dev with the gold article taken out, the realtimeqa-dev questions over
  the xquad index (off-topic), and the near-topic questions of ``bench/near_topic/``.

The chosen margin is the largest that adds at most ``--max-added`` to the share of answerable
questions declined (each answerable set on its own), since the thresholds it sits on were already
fitted to the 3 % cap.

    python bench/name_margin.py --data-dir D --reuse-index xquad-hi-dev=eval-… realtimeqa-dev=eval-…

Prints the table and writes ``bench/results/name_margin.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eval_index import DATA, add_index_options, distractors  # bench/ is the script folder

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "name_margin.json"
NEAR = ROOT / "bench" / "near_topic" / "xquad-hi-dev.jsonl"
MARGINS = tuple(round(0.005 * i, 3) for i in range(11))  # 0 to 0.05
ANSWERABLE = ("xquad en", "xquad hi", "realtimeqa")


def cases_of(set_name: str, n: int | None, reuse: str, data_dir: Path, near: bool) -> list[dict[str, Any]]:
    """One row per question (and per kind of case) of one development set."""
    from khabar import components
    from khabar.eval.data import load_articles, load_questions
    from khabar.eval.khabar_pipeline import KhabarPipeline
    from khabar.settings import Settings
    from rag.answer import DeclineThresholds
    from rag.names import question_names, unmentioned_names

    folder = DATA / "eval" / set_name
    never = {"min_evidence_score": -1.0, "min_evidence_score_cross_lingual": -1.0}
    settings = Settings(data_dir=data_dir, **never)
    defaults = Settings()
    pipeline = KhabarPipeline(settings, top_k=10)
    pipeline.reuse_index = reuse
    info = pipeline.build(load_articles([folder / "articles.jsonl", distractors(set_name, n)]))
    print(f"{set_name}: index {info.index_name}, {info.index_chunks} chunks", flush=True)
    service = components.service(pipeline.settings, pipeline.index_name)

    thresholds = DeclineThresholds(defaults.min_evidence_score, defaults.min_evidence_score_cross_lingual)

    def case(kind: str, question: str, found: Any, drop: set[str] = frozenset()) -> dict[str, Any]:
        """One row: the best evidence over ``found`` with ``drop``'s articles taken out."""
        row = {"kind": kind, "answerable": kind in ANSWERABLE, "question": question}
        kept = [p for p in found.passages if p.article_id not in drop]
        evidence = service.evidence_for(found, kept)
        if not evidence:
            return {**row, "score": None}
        best = max(evidence, key=lambda e: e.score)
        return {
            **row,
            "score": best.score,
            "threshold": thresholds.for_languages(found.language, evidence[0].passage.language),
            "named": bool(question_names(question)),
            "unmentioned": bool(unmentioned_names(question, best.passage)),
        }

    rows: list[dict[str, Any]] = []
    for q in load_questions(folder / "questions.jsonl"):
        gold = set(q.gold_ids)
        found = service.search(q.question)  # one search serves every case of the question
        retrieved = any(p.article_id in gold for p in found.passages[: settings.answer_passages])
        kind = f"xquad {q.language}" if set_name == "xquad-hi-dev" else "realtimeqa"
        if retrieved:  # declining a question whose gold was not retrieved is not the margin's fault
            rows.append(case(kind, q.question, found))
        if set_name == "xquad-hi-dev":
            rows.append(case("gold removed", q.question, found, gold))
    if near:
        for q in load_questions(NEAR):
            rows.append(case("near-topic", q.question, service.search(q.question)))
        for q in load_questions(DATA / "eval" / "realtimeqa-dev" / "questions.jsonl"):
            rows.append(case("off-topic", q.question, service.search(q.question)))
    service.close()
    return [r for r in rows if r["score"] is not None]


def declined_share(rows: list[dict[str, Any]], margin: float) -> float:
    hit = sum(r["score"] < r["threshold"] + (margin if r["unmentioned"] else 0.0) for r in rows)
    return round(hit / len(rows), 4) if rows else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_index_options(parser, per_set=True)
    parser.add_argument("--realtimeqa-distractors", type=int, default=300)
    parser.add_argument("--max-added", type=float, default=0.005)
    args = parser.parse_args(argv)
    if not (DATA / "eval").is_dir():
        print(f"{DATA} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    reuse = dict(value.split("=", 1) for value in args.reuse_index)
    rows = cases_of("xquad-hi-dev", None, reuse.get("xquad-hi-dev", ""), args.data_dir, near=True)
    rows += cases_of(
        "realtimeqa-dev",
        args.realtimeqa_distractors,
        reuse.get("realtimeqa-dev", ""),
        args.data_dir,
        near=False,
    )
    shown = sys.argv[1:] if argv is None else argv
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: (k not in ANSWERABLE, k))
    by_kind = {k: [r for r in rows if r["kind"] == k] for k in kinds}
    table = {m: {k: declined_share(by_kind[k], m) for k in kinds} for m in MARGINS}
    base = table[0.0]
    allowed = [
        m
        for m in MARGINS
        if all(table[m][k] - base[k] <= args.max_added + 1e-9 for k in ANSWERABLE if k in base)
    ]
    chosen = max(allowed)
    print(f"\n{'margin':>7} " + " ".join(f"{k:>13}" for k in kinds))
    for m in MARGINS:
        mark = " <- chosen" if m == chosen else ""
        print(f"{m:>7.3f} " + " ".join(f"{table[m][k]:>13.3f}" for k in kinds) + mark)
    flagged = {k: sum(r["unmentioned"] for r in by_kind[k]) for k in kinds}
    print(f"\nflagged (names, none mentioned in the best passage): {flagged}")
    OUT.write_text(
        json.dumps(
            {
                "command": "python bench/name_margin.py "
                + " ".join("<eval data dir>" if a == str(args.data_dir) else a for a in shown),
                "max_added": args.max_added,
                "chosen_margin": chosen,
                "questions": {k: len(v) for k, v in by_kind.items()},
                "named": {k: sum(r["named"] for r in v) for k, v in by_kind.items()},
                "flagged": flagged,
                "declined_share": {str(m): v for m, v in table.items()},
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
