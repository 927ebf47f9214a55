"""Could a chunk's vector be made from its sentences' vectors, so ingestion runs the model once?

Why: ingestion embeds every chunk and then every sentence of it, a second pass of the model.
Late chunking (``bench/late_chunking.py``) tried to get the sentence vectors from the chunk's
pass and lost too much; this tries the other way round: keep the sentence pass (the evidence the
answer is chosen from stays exactly as it is) and derive each chunk's vector from the stored
vectors of the sentences inside it — their mean (plain, or weighted by token count) plus the
article title's own vector with a weight, renormalised. It reads an existing eval index (nothing is
written), embeds only the titles, and ranks the stored chunks by cosine to each development
question with the stored and with the derived vectors: dense hit@1 / hit@5 of the gold article,
per question language. Dense retrieval alone, not the full pipeline, which also has BM25.

    python bench/derived_chunk_vectors.py --data-dir DATA_DIR --reuse-index SET=INDEX [SET=INDEX ...]

Writes ``bench/results/derived_chunk_vectors.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

import numpy as np
from eval_index import DATA, ROOT, add_index_options

OUT = ROOT / "bench" / "results" / "derived_chunk_vectors.json"
TITLE_WEIGHTS = (0.0, 0.1, 0.2, 0.35)


def hits(questions: list[dict[str, Any]], q_vectors: np.ndarray, chunks: np.ndarray, articles: list[str]):
    """Per language: (questions, hit@1, hit@5) of the gold article among the nearest chunks' articles."""
    sims = q_vectors @ chunks.T
    out: dict[str, list[float]] = {}
    for language in sorted({q["language"] for q in questions}):
        h1 = h5 = n = 0
        for i, q in enumerate(questions):
            if q["language"] != language:
                continue
            ranked: list[str] = []
            for j in np.argsort(-sims[i]):
                if articles[j] not in ranked:
                    ranked.append(articles[j])
                if len(ranked) == 5:
                    break
            n += 1
            h1 += ranked[0] in q["gold_ids"]
            h5 += any(a in q["gold_ids"] for a in ranked)
        out[language] = [n, round(h1 / n, 3), round(h5 / n, 3)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_index_options(parser, per_set=True)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from khabar import components
    from khabar.settings import Settings

    settings = Settings(data_dir=args.data_dir)
    model = components.embedder(settings)
    results: dict[str, Any] = {}
    for given in args.reuse_index:
        set_name, _, index_name = given.partition("=")
        questions = [
            json.loads(line)
            for line in (DATA / "eval" / set_name / "questions.jsonl")
            .read_text(encoding="utf-8")
            .splitlines()
            if line.strip()
        ]
        index = components.open_index(settings, index_name)
        records = index.survey()
        chunk_ids = [cid for r in records.values() for cid in r.chunks]
        ids, stored = index.chunk_vectors(chunk_ids)
        where = {cid: (h, r) for h, r in records.items() for cid in r.chunks}
        sentences = index.sentences(list(records))
        titles = sorted({r.title for r in records.values()})
        title_vectors = dict(
            zip(titles, np.asarray(model.embed_passages(titles), dtype=np.float32), strict=True)
        )
        parts = []
        for cid in ids:
            h, record = where[cid]
            start, end, _ = record.chunks[cid]
            stored_sentences = sentences[h]
            inside = [
                (np.asarray(v, dtype=np.float32), len(model.token_ids(text)))
                for (text, s, e), v in zip(stored_sentences.rows, stored_sentences.vectors, strict=True)
                if s < end and e > start
            ]
            parts.append((inside, title_vectors[record.title]))
        index.close()
        q_vectors = np.asarray([model.embed_query(q["question"]) for q in questions], dtype=np.float32)
        articles = [where[cid][1].article_id for cid in ids]
        rows = {"stored chunk vectors": hits(questions, q_vectors, stored, articles)}
        for weighted in (False, True):
            for title_weight in TITLE_WEIGHTS:
                derived = []
                for inside, title in parts:
                    if inside:
                        vectors = np.stack([v for v, _ in inside])
                        w = np.array([n if weighted else 1 for _, n in inside], dtype=np.float32)
                        v = (vectors * w[:, None]).sum(0) / w.sum() + title_weight * title
                    else:
                        v = title
                    derived.append(v / np.linalg.norm(v))
                label = f"{'token-weighted' if weighted else 'plain'} sentence mean + {title_weight} x title"
                rows[label] = hits(questions, q_vectors, np.stack(derived), articles)
        results[set_name] = {"chunks": len(ids), "articles": len(records), "hits": rows}
        print(set_name, f"{len(ids)} chunks")
        for label, row in rows.items():
            print(
                f"  {label:48s} "
                + "  ".join(f"{k}: n={v[0]} hit@1 {v[1]:.3f} hit@5 {v[2]:.3f}" for k, v in row.items())
            )
    OUT.write_text(
        json.dumps(
            {"date": date.today().isoformat(), "embed_runtime": settings.embed_runtime, "sets": results},
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
