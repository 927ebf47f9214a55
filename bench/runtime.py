"""Which runtime should run the embedding model: torch, ONNX Runtime fp32, or ONNX Runtime int8?

Why: embedding is most of an ingest's time (every chunk, then every sentence of it) and part of
every question's. The same bundled weights can run through torch (sentence-transformers), through
an ONNX export of them in ONNX Runtime, or through a dynamically int8-quantised copy of that export
(index/embedding/onnx.py). This measures, in one process:

* speed: the same chunk texts and sentence texts (BBC Hindi and BBC English articles, chunked and
  split by the real chunker) embedded by each runtime in interleaved repeats, with the same batch
  size and threads: texts/s and tokens/s, median over repeats;
* quality on a question set (xquad-hi-dev): every paragraph chunk, every sentence and every
  question embedded by each runtime; dense hit@1/hit@5 of the gold paragraph among all the set's
  paragraphs (brute-force cosine, a paragraph scores its best chunk), top-sentence accuracy by
  cosine within the gold paragraph (as bench/late_chunking.py), each runtime's cosine to torch's
  vectors, and hit@5 of each runtime's questions against torch's stored chunks (an index built by
  one runtime and queried by another);
* word alignment: each runtime's layer-N token vectors against torch's (cosine per token), and the
  sentence each picks within the gold paragraph by MaxSim alone and by cosine + weight x MaxSim.

    python bench/runtime.py [--articles 120] [--per-workload 96] [--repeats 3] [--threads 2]
                            [--skip-speed | --skip-quality]

Needs ``../shared/data``; writes ``bench/results/runtime.json`` (a skipped section keeps its last
figures). Exports are built on first use in the model cache (not timed). Questions are embedded
one at a time (as ``ask`` does), passages in batches of the configured size (int8: one text per run,
as the runtime itself does).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
from machine import machine  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "runtime.json"
RUNTIMES = ("torch", "onnx", "onnx-int8")


def folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def load_runtimes(settings, threads: int) -> dict:
    import torch

    from index.embedding.embedder import resolve_model_path
    from index.embedding.onnx import OnnxEmbedder
    from khabar import components

    torch.set_num_threads(threads)
    models = {"torch": components.embedder(settings.model_copy(update={"embed_runtime": "torch"}))}
    folder = Path(resolve_model_path(settings.embed_model, Path(settings.model_cache_dir)))
    for runtime in RUNTIMES[1:]:
        models[runtime] = OnnxEmbedder(
            folder,
            settings.embed_model,
            settings.embed_query_prefix,
            settings.embed_passage_prefix,
            settings.embed_batch_size,
            settings.embed_max_tokens,
            int8=runtime == "onnx-int8",
            threads=threads,
        )
    return models


def corpus_texts(settings, chunker, language: str, articles: int) -> tuple[list[str], list[str]]:
    """Chunk texts (as embedded: title + chunk) and sentence texts of the corpus's first articles."""
    from ingest.chunking import chunk_embedding_text, unique_sentences
    from ingest.sources.dispatch import read_file

    path = DATA / "corpora" / f"bbc-{language}.jsonl"
    chunks, sentences = [], []
    for article in read_file(path, path.parent).articles[:articles]:
        pieces = chunker.chunk(article)
        chunks += [chunk_embedding_text(article, c, settings.index_titles) for c in pieces]
        sentences += [s.text for s in unique_sentences(pieces)]
    return chunks, sentences


def speed(models: dict, workloads: dict[str, list[str]], repeats: int) -> dict:
    """Passages are embedded in batches; ``questions`` one at a time, as ``ask`` embeds them."""
    tokens = {
        name: sum(min(len(models["torch"].token_ids("passage: " + t)) + 2, 512) for t in texts)
        for name, texts in workloads.items()
    }
    for model in models.values():  # warm up: first calls allocate
        model.embed_passages(["warm up", "गरम"])
    seconds: dict[str, dict[str, list[float]]] = {r: {w: [] for w in workloads} for r in models}
    order = list(models)
    for repeat in range(repeats):
        for runtime in order[repeat % len(order) :] + order[: repeat % len(order)]:  # rotate who goes first
            for name, texts in workloads.items():
                started = time.perf_counter()
                if name == "questions":
                    for text in texts:
                        models[runtime].embed_query(text)
                else:
                    models[runtime].embed_passages(texts)
                seconds[runtime][name].append(time.perf_counter() - started)
        print(f"  repeat {repeat + 1}/{repeats} done, load average {os.getloadavg()[0]:.1f}", flush=True)
    table = {}
    for runtime, by_workload in seconds.items():
        table[runtime] = {}
        for name, runs in by_workload.items():
            median = statistics.median(runs)
            table[runtime][name] = {
                "texts": len(workloads[name]),
                "tokens": tokens[name],
                "seconds": [round(s, 2) for s in runs],
                "texts_per_s": round(len(workloads[name]) / median, 1),
                "tokens_per_s": round(tokens[name] / median),
            }
        total = sum(statistics.median(r) for r in by_workload.values())
        table[runtime]["all"] = {
            "texts_per_s": round(sum(len(t) for t in workloads.values()) / total, 1),
            "tokens_per_s": round(sum(tokens.values()) / total),
        }
    return table


def quality(models: dict, settings, chunker, set_name: str) -> dict:
    from index.records import Article
    from ingest.chunking import chunk_embedding_text, unique_sentences
    from ingest.sources.dispatch import read_file
    from rag.alignment import WordAligner

    folder = DATA / "eval" / set_name
    articles: dict[str, Article] = {a.id: a for a in read_file(folder / "articles.jsonl", folder).articles}
    questions = [json.loads(ln) for ln in (folder / "questions.jsonl").read_text().splitlines() if ln]
    questions = [q for q in questions if q["gold_ids"] and q["gold_ids"][0] in articles]
    chunk_texts, chunk_owner, sentences = [], [], {}
    for article_id, article in articles.items():
        pieces = chunker.chunk(article)
        chunk_texts += [chunk_embedding_text(article, c, settings.index_titles) for c in pieces]
        chunk_owner += [article_id] * len(pieces)
        sentences[article_id] = [s.text for s in unique_sentences(pieces)]
    ids = list(articles)
    owner_index = np.array([ids.index(a) for a in chunk_owner])
    flat_sentences = [s for a in ids for s in sentences[a]]
    sentence_slices, start = {}, 0
    for a in ids:
        sentence_slices[a] = slice(start, start + len(sentences[a]))
        start += len(sentences[a])

    vectors, seconds = {}, {}
    for runtime, model in models.items():
        started = time.perf_counter()
        vectors[runtime] = {
            "chunks": np.asarray(model.embed_passages(chunk_texts)),
            "sentences": np.asarray(model.embed_passages(flat_sentences)),
            "questions": np.asarray([model.embed_query(q["question"]) for q in questions]),
        }
        seconds[runtime] = round(time.perf_counter() - started, 1)
        print(f"  {runtime}: embedded the set in {seconds[runtime]}s", flush=True)

    def paragraph_ranks(q_vectors: np.ndarray, c_vectors: np.ndarray) -> list[int]:
        scores = q_vectors @ c_vectors.T  # questions x chunks
        best = np.full((len(q_vectors), len(ids)), -2.0)
        for p in range(len(ids)):
            best[:, p] = scores[:, owner_index == p].max(axis=1)
        ranks = []
        for qi, q in enumerate(questions):
            gold = best[qi, ids.index(q["gold_ids"][0])]
            ranks.append(int((best[qi] > gold).sum()))
        return ranks

    def share(values: list[bool], language: str) -> float:
        picked = [v for v, q in zip(values, questions, strict=True) if q["language"] == language]
        return round(100 * sum(picked) / len(picked), 1)

    languages = sorted({q["language"] for q in questions})
    result: dict = {"questions": {lang: sum(q["language"] == lang for q in questions) for lang in languages}}
    result.update(paragraphs=len(ids), chunks=len(chunk_texts), sentences=len(flat_sentences))
    result["seconds_to_embed_the_set"] = seconds
    result["runtimes"] = {}
    picks: dict[str, list[int]] = {}
    for runtime, v in vectors.items():
        ranks = paragraph_ranks(v["questions"], v["chunks"])
        mixed = paragraph_ranks(v["questions"], vectors["torch"]["chunks"])
        correct, picks[runtime] = [], []
        for qi, q in enumerate(questions):
            span = sentence_slices[q["gold_ids"][0]]
            pick = int(np.argmax(v["sentences"][span] @ v["questions"][qi]))
            picks[runtime].append(pick)
            correct.append(any(folded(a) in folded(flat_sentences[span][pick]) for a in q["answers"]))
        row = {}
        for lang in languages:
            row[lang] = {
                "hit@1": share([r < 1 for r in ranks], lang),
                "hit@5": share([r < 5 for r in ranks], lang),
                "top_sentence": share(correct, lang),
                "hit@5_queries_vs_torch_chunks": share([r < 5 for r in mixed], lang),
                "same_top_sentence_as_torch": share(
                    [a == b for a, b in zip(picks[runtime], picks.get("torch", picks[runtime]), strict=True)],
                    lang,
                ),
            }
        agreement = {
            kind: {
                "min": round(float((v[kind] * vectors["torch"][kind]).sum(axis=1).min()), 4),
                "mean": round(float((v[kind] * vectors["torch"][kind]).sum(axis=1).mean()), 4),
            }
            for kind in ("chunks", "sentences", "questions")
        }
        result["runtimes"][runtime] = {"by_language": row, "cosine_to_torch": agreement}
        print(f"  {runtime}: {json.dumps(row)}", flush=True)
        print(f"  {runtime}: cosine to torch {json.dumps(agreement)}", flush=True)

    # Word alignment: token vectors of the configured layer, each runtime's own encoder.
    from index.embedding.onnx import OnnxTokenEncoder

    layer, max_tokens = settings.alignment_layer, settings.alignment_max_tokens
    encoders = {r: m.token_encoder(layer, max_tokens, 1 << 16) for r, m in models.items()}
    encoders["onnx-int8 (fp32 token graph)"] = OnnxTokenEncoder(
        models["onnx"].folder,
        models["onnx"]._tokenizer,
        layer,
        {"query": settings.embed_query_prefix, "passage": settings.embed_passage_prefix},
        max_tokens,
        1 << 16,
        int8=False,
        threads=models["onnx"].threads,
    )
    align_picks: dict[str, list[int]] = {}
    result["alignment"] = {"layer": layer, "weight": settings.alignment_weight, "encoders": {}}
    sample = [("query", q["question"]) for q in questions[:100]]
    sample += [("passage", s) for s in flat_sentences[:300]]
    reference = encoders["torch"].vectors(sample)
    for name, encoder in encoders.items():
        started = time.perf_counter()
        aligner = WordAligner(encoder)
        by_maxsim, combined, correct_m, correct_c = [], [], [], []
        vector_runtime = "onnx-int8" if name.startswith("onnx-int8") else name
        for qi, q in enumerate(questions):
            span = sentence_slices[q["gold_ids"][0]]
            texts = flat_sentences[span]
            maxsim = np.asarray(aligner.maxsim(q["question"], texts))
            cosine = vectors[vector_runtime]["sentences"][span] @ vectors[vector_runtime]["questions"][qi]
            m, c = int(np.argmax(maxsim)), int(np.argmax(cosine + settings.alignment_weight * maxsim))
            by_maxsim.append(m)
            combined.append(c)
            correct_m.append(any(folded(a) in folded(texts[m]) for a in q["answers"]))
            correct_c.append(any(folded(a) in folded(texts[c]) for a in q["answers"]))
        align_picks[name] = by_maxsim
        token_cos = np.concatenate(
            [(a * b).sum(axis=1) for a, b in zip(encoder.vectors(sample), reference, strict=True)]
        )
        row = {
            lang: {
                "top_sentence_by_maxsim": share(correct_m, lang),
                "top_sentence_by_cosine_plus_alignment": share(correct_c, lang),
                "same_maxsim_pick_as_torch": share(
                    [a == b for a, b in zip(by_maxsim, align_picks["torch"], strict=True)], lang
                ),
            }
            for lang in languages
        }
        result["alignment"]["encoders"][name] = {
            "by_language": row,
            "token_cosine_to_torch": {
                "min": round(float(token_cos.min()), 4),
                "p1": round(float(np.percentile(token_cos, 1)), 4),
                "mean": round(float(token_cos.mean()), 4),
            },
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"  alignment {name}: {json.dumps(result['alignment']['encoders'][name])}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="xquad-hi-dev")
    parser.add_argument("--articles", type=int, default=120, help="articles per corpus for the speed texts")
    parser.add_argument("--per-workload", type=int, default=96, help="texts per workload and repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from ingest.chunking import Chunker
    from khabar.settings import Settings

    if not (DATA / "corpora").is_dir():
        raise SystemExit(f"{DATA} is missing: this benchmark needs ../shared/data")
    settings = Settings()
    info = machine(threads=args.threads)
    print(f"machine: {json.dumps(info)}", flush=True)
    models = load_runtimes(settings, args.threads)
    chunker = Chunker(models["torch"].token_ids, settings.chunk_tokens, settings.chunk_overlap_tokens)
    run = {
        "command": "python bench/runtime.py " + " ".join(sys.argv[1:]),
        "date": date.today().isoformat(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": info,
        "batch_size": settings.embed_batch_size,
    }
    # A section not run this time keeps its last figures (each section records its own run).
    out: dict = json.loads(OUT.read_text()) if OUT.is_file() else {}
    if not args.skip_speed:
        rng = random.Random(0)
        workloads = {}
        for language in ("hindi", "english"):
            chunks, sentences = corpus_texts(settings, chunker, language, args.articles)
            workloads[f"chunks-{language}"] = rng.sample(chunks, min(args.per_workload, len(chunks)))
            workloads[f"sentences-{language}"] = rng.sample(sentences, min(args.per_workload, len(sentences)))
        questions = DATA / "eval" / args.set / "questions.jsonl"
        asked = [json.loads(ln)["question"] for ln in questions.read_text().splitlines() if ln]
        workloads["questions"] = rng.sample(asked, min(args.per_workload, len(asked)))
        print(f"speed: {args.repeats} interleaved repeats of {[len(t) for t in workloads.values()]} texts")
        table = speed(models, workloads, args.repeats)
        for runtime, row in table.items():
            cells = "  ".join(
                f"{w} {v['texts_per_s']} texts/s {v['tokens_per_s']} tok/s" for w, v in row.items()
            )
            print(f"  {runtime:10s} {cells}")
        out["speed"] = {"run": run, "runtimes": table}
    if not args.skip_quality:
        print(f"quality on {args.set}:")
        out["quality"] = {"run": run, **quality(models, settings, chunker, args.set)}
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average after: {info['load_average_after']}")
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
