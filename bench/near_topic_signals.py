"""Can today's confidence signals tell a near-topic unanswerable question from an answerable one?

Near-topic questions (``bench/near_topic/``) are about a development paragraph that is retrieved
correctly but never states the asked fact. For them and for the answerable xquad-hi-dev questions
this asks the real pipeline and records, for the best evidence: its evidence score (what declining
reads), its cosine, the learned sentence model's highest logit, and how well the question word worst
matched in the best sentence is matched (token alignment). It reports each signal's AUC
(answerable above near-topic; 0.5 is chance), also among questions of at least 14 words only
(our near-topic questions run longer than the answerable ones, so length alone separates them:
the ``shortness`` row is that control), and how many near-topic questions a threshold would
decline while declining at most 3 % / 5 % of the answerable ones, per kind of pair (same language,
cross-lingual), as the decline thresholds are fitted.

Run from the project root once the xquad eval index exists:
``python bench/near_topic_signals.py [--data-dir D] [--reuse-index eval-…]``.
Prints the figures and writes ``bench/results/near_topic_signals.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from eval_index import add_index_options  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD = DATA / "eval" / "xquad-hi-dev"
NEAR = ROOT / "bench" / "near_topic" / "xquad-hi-dev.jsonl"
OUT = ROOT / "bench" / "results" / "near_topic_signals.json"
SIGNALS = ("score", "similarity", "learned_logit", "weakest_word", "shortness")
LONG = 14  # words: the length-matched comparison keeps questions at least this long
CAPS = (0.03, 0.05)


def auc(high: np.ndarray, low: np.ndarray) -> float:
    """P(a random answerable question's signal > a near-topic one's), ties counting half."""
    greater = (high[:, None] > low[None, :]).mean()
    return float(greater + 0.5 * (high[:, None] == low[None, :]).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_index_options(parser)
    args = parser.parse_args(argv)
    if not XQUAD.is_dir():
        print(f"{XQUAD} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    from khabar import components
    from khabar.eval.data import load_articles, load_questions
    from khabar.eval.khabar_pipeline import KhabarPipeline
    from khabar.settings import Settings
    from rag.answer import is_cross_lingual
    from rag.sentence_model import SHIPPED, SentenceFeatures, SentenceModel

    settings = Settings(data_dir=args.data_dir, top_k=10)
    pipeline = KhabarPipeline(settings, top_k=10)
    pipeline.reuse_index = args.reuse_index
    info = pipeline.build(load_articles([XQUAD / "articles.jsonl", DATA / "corpora" / "bbc-hindi.jsonl"]))
    service = components.service(settings, info.index_name)
    model, features = SentenceModel.load(settings.sentence_model_file or SHIPPED), SentenceFeatures()
    encoder = components.embedder(settings).token_encoder(
        settings.alignment_layer, settings.alignment_max_tokens, settings.alignment_cache_size
    )

    def weakest_word(question: str, sentence: str) -> float:
        """The question token worst matched in the sentence: its best cosine to a sentence token
        (token vectors of the word aligner's layer). A fact the sentence never states leaves a
        question word without a counterpart."""
        q, s = encoder.vectors([("query", question), ("passage", sentence)])
        return float((q.astype(np.float32) @ s.astype(np.float32).T).max(axis=1).min())

    def signals(question: str) -> dict[str, float | bool] | None:
        found = service.search(question)
        evidence = service.evidence_for(found, found.passages)
        if not evidence:
            return None
        logits = model.logits(features.matrix(found.query, evidence[: settings.sentence_order_candidates]))
        return {
            "score": max(e.score for e in evidence),
            "similarity": max(e.similarity for e in evidence),
            "learned_logit": float(logits.max()),
            "weakest_word": weakest_word(question, evidence[0].text),
            # A control, not a signal: our near-topic questions run longer than the answerable
            # ones, so anything that falls with length separates them without reading the text.
            "shortness": -float(len(question.split())),
            "cross": is_cross_lingual(found.query.language, evidence[0].passage.language),
        }

    kinds = {
        "answerable": [signals(q.question) for q in load_questions(XQUAD / "questions.jsonl")],
        "near-topic": [signals(q.question) for q in load_questions(NEAR)],
    }
    rows = {k: [r for r in v if r is not None] for k, v in kinds.items()}
    result: dict[str, object] = {
        "questions": {k: len(v) for k, v in rows.items()},
        "mean_words": {k: round(float(np.mean([-r["shortness"] for r in v])), 1) for k, v in rows.items()},
        "auc": {},
        "auc_length_matched": {},
        "length_matched_questions": {
            k: sum(1 for r in v if r["shortness"] <= -LONG) for k, v in rows.items()
        },
        "at_cap": [],
    }
    for name in SIGNALS:
        high = np.asarray([r[name] for r in rows["answerable"]])
        low = np.asarray([r[name] for r in rows["near-topic"]])
        result["auc"][name] = round(auc(high, low), 3)  # type: ignore[index]
        long_high = np.asarray([r[name] for r in rows["answerable"] if r["shortness"] <= -LONG])
        long_low = np.asarray([r[name] for r in rows["near-topic"] if r["shortness"] <= -LONG])
        result["auc_length_matched"][name] = round(auc(long_high, long_low), 3)  # type: ignore[index]
        for cross in (False, True):
            a = np.asarray([r[name] for r in rows["answerable"] if r["cross"] is cross])
            n = np.asarray([r[name] for r in rows["near-topic"] if r["cross"] is cross])
            for cap in CAPS:
                threshold = float(np.quantile(a, cap))
                result["at_cap"].append(  # type: ignore[union-attr]
                    {
                        "signal": name,
                        "pair": "cross-lingual" if cross else "same language",
                        "max_wrongly_declined": cap,
                        "near_topic_declined": round(float((n < threshold).mean()), 3),
                        "near_topic_questions": len(n),
                    }
                )
    print(json.dumps(result, indent=1))
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
