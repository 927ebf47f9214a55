"""Ingestion against the model's own limit, side by side in one run.

The limit is what the embedding model alone does on the same chunks: the configured model and
runtime (``Embedder.embed_passages``) on the chunk texts as ingestion builds them (title line +
chunk), in one call sorted by length, with the configured batch size and threads. The pipeline is a real
``Ingestor`` run — read the JSONL file, clean, detect language, chunk, embed chunks and produce
sentence vectors, write Chroma, BM25 and the manifest — into a fresh index each time. Both are
timed alternately ``--repeat`` times on the same articles, so the machine's drift falls on both;
the ratio of their chunks per second is the figure the issue's target (≥ 0.9) is about.

Also timed, once each: ``encode`` of the articles' unique sentences alone (what a second pass
costs) and the pipeline's own time split (model vs everything else) from a profile of one run.

    python bench/ingest_speed.py [--corpus bbc-hindi] [--articles 120] [--repeat 2] [--write-batch 16 1]

Needs ``../shared/data``; writes ``bench/results/ingest_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from machine import machine  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "ingest_speed.json"


def sample(corpus: str, n: int, folder: Path) -> Path:
    """The first ``n`` articles of a shared corpus with text, as one JSONL file to ingest."""
    source = DATA / "corpora" / f"{corpus}.jsonl"
    if not source.is_file():
        raise SystemExit(f"{source} is missing: this benchmark needs ../shared/data")
    rows = []
    with source.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("text", "").strip():
                rows.append(line if line.endswith("\n") else line + "\n")
            if len(rows) == n:
                break
    path = folder / f"{corpus}-{n}.jsonl"
    path.write_text("".join(rows), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="bbc-hindi", help="Shared corpus name (corpora/NAME.jsonl).")
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--runtime", default=None, help="KHABAR_EMBED_RUNTIME for this run")
    parser.add_argument(
        "--write-batch",
        type=int,
        nargs="+",
        default=None,
        help="KHABAR_INGEST_WRITE_BATCH values to run side by side (default: the setting's alone)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    sys.path.insert(0, str(ROOT))
    from ingest.chunking import Chunker, chunk_embedding_text, unique_sentences
    from ingest.sources.dispatch import read_file
    from khabar import components
    from khabar.settings import Settings

    with tempfile.TemporaryDirectory(prefix="khabar-ingest-speed-") as tmp:
        folder = Path(tmp)
        path = sample(args.corpus, args.articles, folder)
        base = Settings(data_dir=folder / "data")
        if args.runtime:
            base = base.model_copy(update={"embed_runtime": args.runtime})
        model = components.embedder(base)
        articles = read_file(path, folder).articles
        chunker = Chunker(model.token_ids, base.chunk_tokens, base.chunk_overlap_tokens)
        chunk_texts: list[str] = []
        sentence_texts: list[str] = []
        for article in articles:
            chunks = chunker.chunk(article)
            chunk_texts += [chunk_embedding_text(article, c, base.index_titles) for c in chunks]
            sentence_texts += [s.text for s in unique_sentences(chunks)]

        def encode(texts: list[str]) -> float:
            ordered = sorted(texts, key=len)
            started = time.perf_counter()
            model.embed_passages(ordered)
            return time.perf_counter() - started

        batches = args.write_batch or [base.ingest_write_batch]

        def pipeline(run: int, batch: int) -> float:
            settings = base.model_copy(
                update={"index_name": f"speed{run}-{batch}", "ingest_write_batch": batch}
            )
            ingestor = components.ingestor(settings)
            try:
                report = ingestor.ingest([path])
            finally:
                ingestor.close()
            assert report.chunks == len(chunk_texts), (report.chunks, len(chunk_texts))
            return report.seconds

        encode(chunk_texts[:64])  # warm-up: first batches pay for lazy initialisation
        limit_runs: list[float] = []
        pipeline_runs: dict[int, list[float]] = {b: [] for b in batches}
        for run in range(args.repeat):
            order = ["limit", *batches]
            order = order[run % len(order) :] + order[: run % len(order)]  # who goes first rotates
            for what in order:
                if what == "limit":
                    limit_runs.append(encode(chunk_texts))
                    print(f"run {run}: encode chunks alone {limit_runs[-1]:.1f}s", flush=True)
                else:
                    pipeline_runs[what].append(pipeline(run, what))
                    print(
                        f"run {run}: pipeline, write batch {what}: {pipeline_runs[what][-1]:.1f}s", flush=True
                    )
        sentences_alone = encode(sentence_texts)
        n = len(chunk_texts)
        limit_s = statistics.median(limit_runs)
        pipeline_s = statistics.median(pipeline_runs[batches[0]])
        result = {
            "date": date.today().isoformat(),
            "what": "chunks per second: the whole ingestion pipeline vs encode of the same chunk texts alone",
            "corpus": f"{args.corpus} (first {args.articles} articles with text)",
            "articles": len(articles),
            "chunks": n,
            "sentences": len(sentence_texts),
            "embed_model": base.embed_model,
            "runtime": base.embed_runtime,
            "batch_size": base.embed_batch_size,
            "machine": machine(),
            "limit_seconds": [round(x, 2) for x in limit_runs],
            "write_batch": batches[0],
            "pipeline_seconds": [round(x, 2) for x in pipeline_runs[batches[0]]],
            "sentences_alone_seconds": round(sentences_alone, 2),
            "limit_chunks_per_s": round(n / limit_s, 2),
            "pipeline_chunks_per_s": round(n / pipeline_s, 2),
            "pipeline_share_of_limit": round(limit_s / pipeline_s, 3),
            "by_write_batch": {
                str(b): {
                    "pipeline_seconds": [round(x, 2) for x in runs],
                    "pipeline_chunks_per_s": round(n / statistics.median(runs), 2),
                    "pipeline_share_of_limit": round(limit_s / statistics.median(runs), 3),
                }
                for b, runs in pipeline_runs.items()
            },
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
