"""Filtered dense search at scale: Chroma's own ``where`` filter against post-filtered plain searches.

Local Chroma evaluates a ``where`` clause over every chunk it matches before the vector search,
so a broad filter (a language, a year, a time window "or undated") costs time in proportion to
the collection; ``Index.dense_search`` first keeps the passing chunks of deeper plain searches
(``KHABAR_CHROMA_FILTER_OVERSAMPLE``), checking the candidates against the metadata the loaded
BM25 index keeps for them, or Chroma's metadata when it is not loaded. This script asks the same
dense searches with each setting, both ways, side by side (rotating who goes first) on one of
``bench/scale.py``'s indexes, and
scores each against the exact answer (every stored vector, brute force): recall of the exact
top-k, and the mean cosine of what was returned against the exact top-k's.

Filters asked, per question (``bench/scale.py``'s questions): its time words read today (as
``scale.py ask`` and a user asking now would), read at the question's own date (as ``khabar
eval`` does), and a language filter.

    python bench/filtered_search.py --data-dir DIR [--size 100000] [--questions 40] [--oversample 1 16 64]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from latency import percentile  # bench/ is the script folder, on sys.path
from machine import machine  # bench/ is the script folder, on sys.path
from scale import QUESTIONS, index_name, questions, size_dir

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "filtered_search.json"


def all_rows(index: Any, page: int = 5000) -> tuple[list[str], list[dict], np.ndarray]:
    """Every chunk's id, metadata and unit vector (the exact search's input)."""
    collection = index._stores.chunk_collection  # the bench reads the store whole, as no caller may
    ids: list[str] = []
    metadatas: list[dict] = []
    vectors: list[np.ndarray] = []
    for offset in range(0, collection.count(), page):
        got = collection.get(limit=page, offset=offset, include=["metadatas", "embeddings"])
        ids += got["ids"]
        metadatas += got["metadatas"]
        vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
    matrix = np.vstack(vectors)
    return ids, metadatas, matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="bench/scale.py's --data-dir")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--top-k", type=int, default=50, help="the hybrid retriever's dense depth")
    parser.add_argument("--oversample", type=int, nargs="+", default=[1, 16, 64])
    args = parser.parse_args(argv)
    if not QUESTIONS.is_file():
        print(f"{QUESTIONS} is missing: this benchmark needs ../shared/data", file=sys.stderr)
        return 0

    from index.filters import matches
    from index.records import SearchFilters
    from khabar import components
    from khabar.settings import Settings

    data_dir = size_dir(args.data_dir, args.size)
    settings = {
        n: Settings(data_dir=data_dir, index_name=index_name(args.size), chroma_filter_oversample=n)
        for n in args.oversample
    }
    first = settings[args.oversample[0]]
    service = components.service(first)
    # Each setting reading Chroma's metadata (the BM25 index never loaded), and each that post-filters
    # reading the BM25 rows' metadata (loaded, as a service's warm-up loads it).
    indexes = {f"oversample {n}, Chroma metadata": components.open_index(s) for n, s in settings.items()}
    for n, s in settings.items():
        if n > 1:
            indexes[f"oversample {n}, BM25 rows"] = index = components.open_index(s)
            index.warm_up(dense=False)
    labels = list(indexes)
    described = machine()  # before the run: its load average is the one the searches met
    print(json.dumps(described), flush=True)
    ids, metadatas, matrix = all_rows(indexes[labels[0]])
    dates = {q["question"]: q.get("date", "") for q in map(json.loads, QUESTIONS.open(encoding="utf-8"))}

    searches: list[tuple[str, Any, SearchFilters]] = []  # kind, the searched vector, filters
    for question, _ in questions(args.data_dir, min(args.size, 1000), args.questions):
        asked = dates.get(question, "").replace("/", "-")
        for kind, now in (("time words, today", None), ("time words, question's date", asked or None)):
            query = service.queries.build(question, None, (), None, now)
            if query.filters is not None and not query.filters.is_empty():
                searches.append((kind, query.search_vector, query.filters))
        searches.append(("language en", query.search_vector, SearchFilters(languages=["en"])))

    rows: dict[str, dict[str, dict[str, list[float]]]] = {}
    for i, (kind, searched, filters) in enumerate(searches):
        vector = np.asarray(searched, dtype=np.float32)
        passing = np.array([matches(m, filters) for m in metadatas])
        sims = matrix @ (vector / np.linalg.norm(vector))
        order = np.argsort(-np.where(passing, sims, -np.inf))[: min(args.top_k, int(passing.sum()))]
        exact = {ids[j] for j in order}
        exact_mean = float(sims[order].mean()) if len(order) else 0.0
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            t0 = time.perf_counter()
            found = indexes[label].dense_search(vector.tolist(), args.top_k, filters)
            ms = (time.perf_counter() - t0) * 1000
            got = rows.setdefault(kind, {}).setdefault(label, {"ms": [], "recall": [], "cosine_gap": []})
            got["ms"].append(ms)
            got["recall"].append(len(exact & {p.chunk_id for p in found}) / len(exact) if exact else 1.0)
            mean = statistics.fmean(p.score for p in found) if found else 0.0
            got["cosine_gap"].append(exact_mean - mean if found else 0.0)

    result: dict[str, Any] = {
        "command": f"python bench/filtered_search.py --data-dir DIR --size {args.size} "
        f"--questions {args.questions} --top-k {args.top_k} --oversample "
        + " ".join(map(str, args.oversample)),
        "machine": described,
        "chunks": len(ids),
        "note": (
            "scale.py's index: real rows plus synthetic copies with perturbed vectors; near-identical "
            "copies make HNSW's own recall low, so recall here measures the search, not just the filter"
        ),
        "kinds": {},
    }
    for kind, by_setting in rows.items():
        result["kinds"][kind] = {"searches": len(next(iter(by_setting.values()))["ms"])}
        for label, got in by_setting.items():
            figures = {
                "p50_ms": round(statistics.median(got["ms"]), 1),
                "p95_ms": round(percentile(got["ms"], 0.95), 1),
                "recall_at_k": round(statistics.fmean(got["recall"]), 3),
                "mean_cosine_gap": round(statistics.fmean(got["cosine_gap"]), 4),
            }
            result["kinds"][kind][label] = figures
            print(f"{kind:28} {label:32}: {figures}", flush=True)
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
