"""Fit the decline threshold (``min_evidence_score``) on data, and show how well declining works.

The development sets have no unanswerable questions, so this script makes them honestly:
every xquad-hi-dev question is asked twice over the same collection (its 60 paragraphs plus the
344 BBC Hindi articles): once as it is (answerable) and once with its gold article taken out of
the retrieved passages (unanswerable: the collection minus the one article that answers it).
The realtimeqa-dev questions (2022 English news) are asked over that collection too: a topic it
does not cover at all. For every case we record the answer's confidence (the best evidence
sentence's cosine similarity) and then pick the threshold with the best F1 of declining, where
declining an answerable question whose gold article was retrieved counts as a mistake.

Run: ``python bench/abstention.py`` (uses or builds the same index as ``khabar eval``).
Prints the precision/recall table and writes ``bench/results/abstention.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"


def main() -> int:
    if not DATA.exists():
        print(f"{DATA} is absent: nothing to fit (the development data lives beside the project).")
        return 0
    sys.path.insert(0, str(ROOT))
    from khabar.settings import Settings
    from rag.eval.data import load_articles, load_questions
    from rag.eval.pipelines import KhabarPipeline

    xq = DATA / "eval" / "xquad-hi-dev"
    settings = Settings(data_dir=ROOT / ".khabar", min_evidence_score=-1.0)
    pipeline = KhabarPipeline(settings, top_k=settings.top_k)
    info = pipeline.build(load_articles([xq / "articles.jsonl", DATA / "corpora" / "bbc-hindi.jsonl"]))
    print(f"index {info.index_name}: {info.status}, {info.index_chunks} chunks")
    from rag.service import QAService

    service = QAService(pipeline.settings, pipeline.index_name)
    cases: list[dict] = []

    def gold_removed_confidence(question: str, gold: set[str]) -> float | None:
        """The service's own steps, with the gold article's passages taken out of the ranking."""
        emb = service.embed_model.get_query_embedding(question)
        passages = service.retriever.retrieve(question, emb, None, service.settings.top_k + 5)
        kept = [p for p in passages if p.article_id not in gold][: service.settings.answer_passages]
        evidence = service.evidence.score(emb, kept, question)
        return service.answerer.answer(question, evidence, kept).confidence

    for q in load_questions(xq / "questions.jsonl"):
        gold = set(q.gold_ids)
        answer = service.ask(q.question)  # never declines here (threshold -1): confidence only
        gold_found = any(p.article_id in gold for p in answer.passages[: settings.answer_passages])
        cases.append(
            {
                "set": "xquad",
                "lang": q.language,
                "answerable": True,
                "conf": answer.confidence,
                "gold_retrieved": gold_found,
            }
        )
        cases.append(
            {
                "set": "xquad-gold-removed",
                "lang": q.language,
                "answerable": False,
                "conf": gold_removed_confidence(q.question, gold),
            }
        )
    for q in load_questions(DATA / "eval" / "realtimeqa-dev" / "questions.jsonl"):
        cases.append(
            {
                "set": "realtimeqa-off-topic",
                "lang": q.language,
                "answerable": False,
                "conf": service.ask(q.question).confidence,
            }
        )

    # Answerable questions whose gold article was not even retrieved are excluded from the fit:
    # declining them is not a mistake of the threshold.
    fit = [c for c in cases if not c["answerable"] or c["gold_retrieved"]]
    conf = np.array([c["conf"] if c["conf"] is not None else -1.0 for c in fit])
    unanswerable = np.array([not c["answerable"] for c in fit])
    rows = []
    for t in np.round(np.arange(0.70, 0.90, 0.005), 3):
        declined = conf < t
        tp = int((declined & unanswerable).sum())
        precision = tp / declined.sum() if declined.any() else 0.0
        recall = tp / unanswerable.sum()
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        wrongly = float((declined & ~unanswerable).sum() / (~unanswerable).sum())
        rows.append(
            {
                "threshold": float(t),
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "f1": round(f1, 3),
                "wrongly_declined": round(wrongly, 3),
            }
        )
    best = max(rows, key=lambda r: (r["f1"], -r["wrongly_declined"]))
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'f1':>6} {'wrongly declined':>16}")
    for r in rows:
        mark = "  <- best F1" if r is best else ""
        print(
            f"{r['threshold']:9.3f} {r['precision']:9.3f} {r['recall']:7.3f} {r['f1']:6.3f} "
            f"{r['wrongly_declined']:16.3f}{mark}"
        )
    by_set = {}
    for name in sorted({c["set"] for c in cases}):
        values = [c["conf"] for c in cases if c["set"] == name and c["conf"] is not None]
        by_set[name] = {"n": len(values), "median_confidence": round(float(np.median(values)), 4)}
    print(json.dumps(by_set, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "abstention.json"
    out.write_text(
        json.dumps(
            {
                "index": info.index_name,
                "best": best,
                "table": rows,
                "sets": by_set,
                "settings": pipeline.describe(),
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"best threshold {best['threshold']} (F1 {best['f1']}); wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
