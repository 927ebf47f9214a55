"""Can sentence vectors come from the chunk's own forward pass ("late chunking") instead of a
second pass of the model over every sentence?

Why: ingestion embeds every chunk and then every sentence of it as a separate text, which costs
about a second pass of the model; pooling the chunk's token states over each sentence's exact span
would make the sentence vectors almost free. This measures what that does to the quality that
matters, the sentence a question is answered from: for every development question, the sentences
of its gold article (chunked and split exactly as ingestion does) are ranked by cosine to the
question, with (a) separately embedded sentence vectors (today's), (b) late-chunked ones (mean of
the last layer's token states inside the sentence's span of ``passage: <title + chunk>``; a
sentence in two overlapping chunks gets the mean of both), and (c) their average (which still
needs the second pass: an upper bound on what mixing buys), and two repairs of (b) that need no
second pass: (d) the late vector minus half the chunk's mean token state (the context every
sentence of the chunk shares), and (e) a linear map from late to separate vectors (ridge,
fitted on the vectors alone, no labels, five folds by article so no article is mapped by a map
fitted on it). Reported: the share of questions whose
top-ranked sentence holds a gold answer, per question language, and the seconds each kind of
vector took. Cosine alone, with perfect retrieval: not the full pipeline's top-sentence accuracy,
but the signal the evidence scorer starts from.

    python bench/late_chunking.py [--set xquad-hi-dev] [--layer -1]

Needs ``../shared/data``; writes ``bench/results/late_chunking.json`` (``--layer`` N pools an
earlier layer's states instead: cheaper to reach, but further from the query vectors' space).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "late_chunking.json"


def folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def ridge_map(
    separate: dict[str, list[tuple[str, np.ndarray]]], pooled: dict[str, list[np.ndarray]], folds: int = 5
) -> dict[str, np.ndarray]:
    """Late vectors mapped towards separate ones by ridge regression (with a bias), each article by
    a map fitted on the other folds' articles."""
    articles = sorted(pooled)
    out: dict[str, np.ndarray] = {}
    for k in range(folds):
        test = set(articles[k::folds])
        train = [a for a in articles if a not in test]
        x = np.concatenate([np.stack(pooled[a]) for a in train])
        y = np.concatenate([np.stack([v for _, v in separate[a]]) for a in train])
        x1 = np.hstack([x, np.ones((len(x), 1))])
        w = np.linalg.solve(x1.T @ x1 + np.eye(x1.shape[1]), x1.T @ y)
        for a in test:
            xa = np.stack(pooled[a])
            out[a] = unit(np.hstack([xa, np.ones((len(xa), 1))]) @ w)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="xquad-hi-dev")
    parser.add_argument(
        "--layer", type=int, default=-1, help="Encoder layer whose token states are pooled (-1: the last)."
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import torch

    from index.records import Article
    from ingest.chunking import Chunker, chunk_embedding_text, unique_sentences
    from ingest.sources.dispatch import read_file
    from khabar import components
    from khabar.settings import Settings

    folder = DATA / "eval" / args.set
    if not folder.is_dir():
        raise SystemExit(f"{folder} is missing: this benchmark needs ../shared/data")
    settings = Settings(embed_runtime="torch")  # the token states are read from the torch model
    model = components.embedder(settings)
    st = model._sentence_transformer  # the bench reads token states; the app never does
    tokenizer, network = st.tokenizer, st[0].auto_model
    articles: dict[str, Article] = {a.id: a for a in read_file(folder / "articles.jsonl", folder).articles}
    chunker = Chunker(model.token_ids, settings.chunk_tokens, settings.chunk_overlap_tokens)

    def late(text: str, spans: list[tuple[int, int]]) -> list[np.ndarray]:
        enc = tokenizer(
            text, return_offsets_mapping=True, return_tensors="pt", truncation=True, max_length=512
        )
        offsets = enc.pop("offset_mapping")[0].tolist()
        with torch.no_grad():
            states = network(**enc, output_hidden_states=True).hidden_states[args.layer][0].numpy()
        out = []
        for a, b in spans:
            inside = [i for i, (x, y) in enumerate(offsets) if y > x and x >= a and y <= b]
            v = states[inside].mean(0) if inside else states.mean(0)
            out.append(np.concatenate([v, states[1:-1].mean(0)]))  # the span's and the chunk's mean
        return out

    separate: dict[str, list[tuple[str, np.ndarray]]] = {}
    pooled: dict[str, list[np.ndarray]] = {}
    shared: dict[str, list[np.ndarray]] = {}  # each sentence's chunk mean (of the chunk(s) it is in)
    seconds = {"separate sentence pass": 0.0, "chunk pass with token states": 0.0}
    for article_id, article in articles.items():
        chunks = chunker.chunk(article)
        sentences = unique_sentences(chunks)
        t0 = time.perf_counter()
        vectors = model.embed_passages([s.text for s in sentences])
        seconds["separate sentence pass"] += time.perf_counter() - t0
        separate[article_id] = [(s.text, np.asarray(v)) for s, v in zip(sentences, vectors, strict=True)]
        found: dict[tuple[int, int], list[np.ndarray]] = {}
        t0 = time.perf_counter()
        for chunk in chunks:
            text = settings.embed_passage_prefix + chunk_embedding_text(article, chunk, settings.index_titles)
            base = text.find(chunk.text)
            inside = [s for s in sentences if chunk.start <= s.start and s.end <= chunk.end]
            if base < 0 or not inside:
                continue
            spans = [(base + s.start - chunk.start, base + s.end - chunk.start) for s in inside]
            for s, v in zip(inside, late(text, spans), strict=True):
                found.setdefault((s.start, s.end), []).append(v)
        seconds["chunk pass with token states"] += time.perf_counter() - t0
        pooled[article_id], shared[article_id] = [], []
        for s, (_, v) in zip(sentences, separate[article_id], strict=True):
            got = found.get((s.start, s.end))
            both = np.mean(got, 0) if got else np.concatenate([v, v])
            pooled[article_id].append(unit(both[: len(v)]))
            shared[article_id].append(both[len(v) :])
    mapped = ridge_map(separate, pooled)
    minus_context = {
        a: [unit(p - 0.5 * c) for p, c in zip(pooled[a], shared[a], strict=True)] for a in pooled
    }

    questions = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines() if line]
    hits: dict[str, dict[str, list[bool]]] = {}
    for q in questions:
        article_id = q["gold_ids"][0]
        if article_id not in separate:
            continue
        qv = np.asarray(model.embed_query(q["question"]))
        sep = np.array([float(v @ qv) for _, v in separate[article_id]])
        lat = np.array([float(v @ qv) for v in pooled[article_id]])
        minus = np.array([float(v @ qv) for v in minus_context[article_id]])
        fit = mapped[article_id] @ qv
        texts = [t for t, _ in separate[article_id]]
        kinds = (
            ("separate", sep),
            ("late", lat),
            ("average", (sep + lat) / 2),
            ("late minus half the chunk mean", minus),
            ("late, linear map", fit),
        )
        for kind, scores in kinds:
            best = folded(texts[int(np.argmax(scores))])
            ok = any(folded(a) in best for a in q["answers"])
            hits.setdefault(kind, {}).setdefault(q["language"], []).append(ok)

    table = {
        kind: {lang: round(sum(v) / len(v), 3) for lang, v in sorted(by_lang.items())}
        for kind, by_lang in hits.items()
    }
    counts = {lang: len(v) for lang, v in next(iter(hits.values())).items()}
    print(f"top sentence holds the answer (cosine, gold article), {args.set}: {counts}")
    for kind, row in table.items():
        print(f"  {kind:31s} " + "  ".join(f"{lang} {v:.3f}" for lang, v in row.items()))
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    OUT.write_text(
        json.dumps(
            {
                "command": "python bench/late_chunking.py " + " ".join(sys.argv[1:]),
                "date": date.today().isoformat(),
                "commit": commit.stdout.strip(),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "torch": torch.__version__,
                },
                "set": args.set,
                "layer": args.layer,
                "questions": counts,
                "top_sentence_accuracy": table,
                "seconds": {k: round(v, 2) for k, v in seconds.items()},
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
