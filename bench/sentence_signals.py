"""Would more of the bundled model's own evidence pick the answering sentence more often?

The learned sentence order (``bench/fit_sentence_model.py``) reorders the first candidate
sentences from the features :mod:`rag.sentence_model` computes. Its cross-validated top-sentence
accuracy stays far below what the candidates allow (an answering sentence is among the first two
for ~0.8 of the questions). This script tries the further signals the same model and the text
can give, each added to the shipped features and scored with the same grouped cross-validation:

- ``maxsim_l8`` / ``maxsim_l12``: word-by-word alignment (token MaxSim, question to sentence and
  sentence to question) for every candidate, not only near-ties, at layer 8 and at the last layer;
- ``context``: the cosine of the question with the sentence embedded together with its previous
  sentence, and with its next one (a pronoun such as "उनके साथी" is resolved by its neighbour);
- ``relative``: each candidate's cosine and term overlap against the best of its question's
  candidates (rank and gap), and its term overlap weighted by inverse document frequency over
  the candidates' passages' sentences.

Each signal's extra cost per question is timed too: those computed at answer time would need
to buy their latency. Run from the project root once the eval index exists:
``python bench/sentence_signals.py [--data-dir D] [--reuse-index xquad-hi-dev=eval-…]``.
Prints the table and writes ``bench/results/sentence_signals.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from eval_index import DATA, add_index_options, parse_set  # bench/ is the script folder, on sys.path
from fit_sentence_model import collect, cross_validate, logistic, summary

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "sentence_signals.json"
C_GRID = (0.3, 1.0)

Kept = list[tuple[Any, list[Any]]]  # per question: its query and its whole evidence list


def neighbours(evidence: list[Any]) -> dict[tuple[str, int], tuple[str, str]]:
    """(article content, start) -> (previous, next) sentence text within the read passages."""
    by_article: dict[str, list[Any]] = {}
    for e in evidence:
        by_article.setdefault(e.passage.content_hash, []).append(e)
    out = {}
    for sentences in by_article.values():
        sentences = sorted({e.start: e for e in sentences}.values(), key=lambda e: e.start)
        for i, e in enumerate(sentences):
            before = sentences[i - 1].text if i > 0 else ""
            after = sentences[i + 1].text if i + 1 < len(sentences) else ""
            out[(e.passage.content_hash, e.start)] = (before, after)
    return out


def with_gap(columns: np.ndarray) -> np.ndarray:
    """The columns and each one's difference to the question's best candidate."""
    return np.hstack([columns, columns - columns.max(axis=0)])


def rank(values: np.ndarray) -> np.ndarray:
    """1 / (1 + how many candidates score higher), per candidate: 1 for the best, ties shared."""
    return 1.0 / (1 + (values[None, :] > values[:, None]).sum(axis=1))


def maxsim(settings: Any, layer: int) -> Callable[[Kept, int], list[np.ndarray]]:
    from khabar import components

    encoder = components.embedder(settings).token_encoder(layer, settings.alignment_max_tokens, 0)

    def signal(kept: Kept, candidates: int) -> list[np.ndarray]:
        out = []
        for query, evidence in kept:
            q, *rows = encoder.vectors(
                [("query", query.text)] + [("passage", e.text) for e in evidence[:candidates]]
            )
            q = q.astype(np.float32)
            sims = [q @ s.astype(np.float32).T for s in rows]
            out.append(with_gap(np.asarray([[m.max(1).mean(), m.max(0).mean()] for m in sims])))
        return out

    return signal


def context(settings: Any) -> Callable[[Kept, int], list[np.ndarray]]:
    from khabar import components

    model = components.embedder(settings)

    def signal(kept: Kept, candidates: int) -> list[np.ndarray]:
        out = []
        for query, evidence in kept:
            around = neighbours(evidence)
            texts = []
            for e in evidence[:candidates]:
                before, after = around[(e.passage.content_hash, e.start)]
                texts += [f"{before} {e.text}".strip(), f"{e.text} {after}".strip()]
            vectors = np.asarray(model.embed_passages(texts), dtype=np.float32)
            cosines = vectors @ np.asarray(query.vector, dtype=np.float32)
            out.append(with_gap(cosines.reshape(-1, 2)))
        return out

    return signal


def relative(settings: Any) -> Callable[[Kept, int], list[np.ndarray]]:
    from index.analysis import analyze

    def signal(kept: Kept, candidates: int) -> list[np.ndarray]:
        out = []
        for query, evidence in kept:
            sentences = {(e.passage.content_hash, e.start): set(analyze(e.text)) for e in evidence}
            df = Counter(t for terms in sentences.values() for t in terms)
            n = len(sentences)
            terms = set(query.terms)

            def idf(t: str, df: Counter = df, n: int = n) -> float:
                return math.log((n + 1) / (df.get(t, 0) + 0.5))

            weight = sum(idf(t) for t in terms) or 1.0
            head = evidence[:candidates]
            words = [sentences[(e.passage.content_hash, e.start)] for e in head]
            cos = np.asarray([e.similarity for e in head])
            overlap = np.asarray([len(terms & w) / max(len(terms), 1) for w in words])
            weighted = np.asarray([sum(idf(t) for t in terms & w) / weight for w in words])
            out.append(
                np.column_stack(
                    [
                        cos - cos.max(),
                        rank(cos),
                        overlap - overlap.max(),
                        rank(overlap),
                        weighted,
                        weighted - weighted.max(),
                    ]
                )
            )
        return out

    return signal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", type=parse_set, default=[parse_set("xquad-hi-dev")])
    add_index_options(parser, per_set=True)
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"{DATA} is absent: nothing to measure.", file=sys.stderr)
        return 0
    sys.path.insert(0, str(ROOT))
    from khabar.settings import Settings

    settings = Settings(data_dir=args.data_dir)
    candidates = settings.sentence_order_candidates
    reuse = dict(value.split("=", 1) for value in args.reuse_index)
    data = collect(args.sets, args.data_dir, candidates, reuse, keep_evidence=True)
    questions, kept = data["questions"], data["evidence"]
    q = data["q"]

    def stacked(extra: list[np.ndarray]) -> np.ndarray:
        # collect() keeps the rows of question i together, in question order.
        blocks = [np.hstack([data["X"][q == i], e]) for i, e in enumerate(extra)]
        return np.vstack(blocks)

    def best(X: np.ndarray | None) -> dict[str, Any]:
        runs = {c: cross_validate(data, logistic(c), X) for c in C_GRID}
        c = max(C_GRID, key=lambda c: runs[c].mean())
        return {"C": c, **summary(runs[c], questions)}

    signals = {
        "maxsim_l8": maxsim(settings, 8),
        "maxsim_l12": maxsim(settings, 12),
        "context": context(settings),
        "relative": relative(settings),
    }
    rows: dict[str, Any] = {"shipped features": best(None)}
    columns: dict[str, list[np.ndarray]] = {}
    cost: dict[str, float] = {}
    for name, signal in signals.items():
        started = time.perf_counter()
        columns[name] = signal(kept, candidates)
        cost[name] = round(1000 * (time.perf_counter() - started) / len(kept), 1)
        rows[f"+ {name}"] = best(stacked(columns[name]))
        print(f"+ {name:12s} {rows[f'+ {name}']}  ({cost[name]} ms a question)", flush=True)
    everything = [np.hstack([columns[name][i] for name in signals]) for i in range(len(kept))]
    rows["+ all of them"] = best(stacked(everything))
    print(f"+ all of them   {rows['+ all of them']}")
    result = {
        "date": dt.date.today().isoformat(),
        "sets": [f"{n}={k}" if k is not None else n for n, k in args.sets],
        "questions": len(questions),
        "candidates": candidates,
        "folds": "5-fold, grouped by gold article (as bench/fit_sentence_model.py)",
        "top_sentence_accuracy": rows,
        "ms_per_question": cost,
        "note": "ms: computing the signal for every candidate of a question, one question at a "
        "time, caches cold for the maxsim and context signals",
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
