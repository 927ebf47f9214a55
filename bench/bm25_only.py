"""BM25 alone on XQuAD-hi (+ BBC Hindi distractors): our analyzer against bm25s's default tokenizer.

Why this exists: to show, on real data, what the Hindi-aware analyzer (:func:`index.analysis.analyze`)
buys over the tokenizer BM25 libraries use by default (scikit-learn's ``(?u)\\b\\w\\w+\\b`` plus
English stop words, which loses Devanagari words), before BM25 is fused with dense retrieval.
It also times the in-memory rebuild of :class:`index.lexical.LexicalIndex` on ~10k chunks, since
the index is rebuilt on the first search after every change.

Setup: the 60 XQuAD Hindi paragraphs plus the 344 BBC Hindi articles. With ``--unit article``
(default) each article is one document; with ``--unit paragraph`` articles are split on blank
lines and ranks are taken over distinct articles. A question is a hit at k when a gold article
is among the first k distinct articles with a positive BM25 score. English questions ask about
Hindi passages, so lexical retrieval can only match them on names written in Latin script (and
titles); they are reported to show that, not as a target. Target: Hindi hit@5 >= 0.95.

Run from the project root: ``python bench/bm25_only.py``. Writes ``bench/out/bm25_only.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from index.analysis import analyze
from index.lexical import LexicalIndex
from index.text import word_tokens
from khabar.eval.metrics import gold_rank, hit_at_k, mean

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD = DATA / "eval" / "xquad-hi-dev"
BBC_HINDI = DATA / "corpora" / "bbc-hindi.jsonl"
REBUILD_CORPORA = [
    DATA / "corpora" / n for n in ("bbc-english.jsonl", "bbc-hindi.jsonl", "ednil-hindi.jsonl")
]
OUT = ROOT / "bench" / "out" / "bm25_only.json"
KS = (1, 5, 10)
DEPTH = 50  # chunks retrieved per question before deduplicating to articles

Document = tuple[str, str, dict[str, Any]]  # (chunk_id, text, metadata)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def documents(articles: list[dict[str, Any]], unit: str) -> list[Document]:
    """One document per article, or per blank-line-separated paragraph (``unit='paragraph'``)."""
    docs: list[Document] = []
    for a in articles:
        meta = {
            "article_id": a["id"],
            "title": a.get("title", ""),
            "source": a.get("source", ""),
            "language": a.get("language", ""),
            "published": a.get("published", ""),
            "published_day": 0,
            "url": a.get("url", ""),
            "content_hash": a["id"],
        }
        parts = [a["text"]] if unit == "article" else [p for p in a["text"].split("\n\n") if p.strip()]
        offset = 0
        for i, part in enumerate(parts or [a["text"]]):
            start = a["text"].find(part, offset)
            offset = start + len(part)
            docs.append((f"{a['id']}:{i}", part, {**meta, "chunk_index": i, "start": start, "end": offset}))
    return docs


def with_title(text: str, meta: dict[str, Any]) -> str:
    """Title + text, the same rule LexicalIndex and the dense side apply."""
    title = meta.get("title") or ""
    return f"{title}\n{text}" if title and title not in text else text


# --- the two systems ------------------------------------------------------------------------

Ranker = Callable[[str], list[str]]  # question -> article ids, best first (chunk level, may repeat)


def ours(
    docs: list[Document], folder: Path, index_titles: bool, stem: bool = True
) -> tuple[Ranker, dict[str, float]]:
    index = LexicalIndex(folder, index_titles=index_titles, stem=stem)
    t0 = time.perf_counter()
    by_article: dict[str, list[Document]] = {}
    for doc in docs:
        by_article.setdefault(doc[2]["content_hash"], []).append(doc)
    for content_hash, chunks in by_article.items():
        index.add(content_hash, chunks)
    t1 = time.perf_counter()
    index.search("warm", top_k=1)  # builds the in-memory BM25 index
    t2 = time.perf_counter()

    def rank(question: str) -> list[str]:
        return [meta["article_id"] for _, _, meta, _ in index.search(question, top_k=DEPTH)]

    return rank, {"add_s": t1 - t0, "build_s": t2 - t1}


def bm25s_plain(
    docs: list[Document], tokenize: Callable[[list[str]], list[list[str]]], index_titles: bool
) -> Ranker:
    """bm25s straight, with a given tokenizer, scored and cut exactly as LexicalIndex does."""
    texts = [with_title(text, meta) if index_titles else text for _, text, meta in docs]
    article_ids = [meta["article_id"] for _, _, meta in docs]
    retriever = bm25s.BM25(k1=1.5, b=0.75)
    retriever.index(tokenize(texts), show_progress=False)

    def rank(question: str) -> list[str]:
        term_ids = retriever.get_tokens_ids(tokenize([question])[0])
        if not term_ids:
            return []
        scores = retriever.get_scores_from_ids(term_ids)
        hits = np.flatnonzero(scores > 0)
        order = hits[np.argsort(-scores[hits], kind="stable")][:DEPTH]
        return [article_ids[i] for i in order]

    return rank


def bm25s_default_tokenize(texts: list[str]) -> list[list[str]]:
    # bm25s.tokenize with its defaults (lower=True, token_pattern=r"(?u)\b\w\w+\b",
    # stopwords="english", no stemmer); return_ids=False only changes the output form.
    return bm25s.tokenize(texts, return_ids=False, show_progress=False)


def word_tokens_only(texts: list[str]) -> list[list[str]]:
    return [word_tokens(t) for t in texts]


# --- evaluation -----------------------------------------------------------------------------


def evaluate(rank: Ranker, questions: list[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    by_language: dict[str, list[int | None]] = {}
    empty: dict[str, int] = {}
    for q in questions:
        retrieved = rank(q["question"])
        by_language.setdefault(q["language"], []).append(gold_rank(retrieved, q["gold_ids"]))
        empty[q["language"]] = empty.get(q["language"], 0) + (not retrieved)
    by_language["all"] = [r for ranks in list(by_language.values()) for r in ranks]
    empty["all"] = sum(empty.values())
    out: dict[str, dict[str, float | int]] = {}
    for language, ranks in by_language.items():
        row: dict[str, float | int] = {"n": len(ranks), "no_result": empty[language]}
        for k in KS:
            row[f"hit@{k}"] = round(mean(hit_at_k(r, k) for r in ranks) or 0.0, 4)
        out[language] = row
    return out


def rebuild_timing(n_chunks: int, folder: Path) -> dict[str, float | int]:
    """Time LexicalIndex on ``n_chunks`` chunk-sized windows (150 words, stride 120) of the corpora."""
    words: list[str] = []
    for path in REBUILD_CORPORA:
        if path.exists():
            for a in read_jsonl(path):
                words.extend(a["text"].split())
    chunks: list[Document] = []
    start = 0
    while len(chunks) < n_chunks and words:
        window = " ".join(words[start : start + 150])
        h = f"c{len(chunks) // 8}"  # eight chunks per synthetic article
        meta = {"article_id": h, "content_hash": h, "language": "hi", "source": "x", "published_day": 0}
        chunks.append((f"{h}:{len(chunks) % 8}", window, meta))
        start = (start + 120) % max(1, len(words) - 150)
    index = LexicalIndex(folder)
    groups: dict[str, list[Document]] = {}
    for c in chunks:
        groups.setdefault(c[2]["content_hash"], []).append(c)
    t0 = time.perf_counter()
    for h, group in groups.items():
        index.add(h, group)
    t1 = time.perf_counter()
    index.search("पुतिन", top_k=10)  # first search: rebuild from SQLite
    t2 = time.perf_counter()
    index.add(next(iter(groups)), next(iter(groups.values())))  # one article re-ingested
    t3 = time.perf_counter()
    index.search("पुतिन", top_k=10)  # rebuild again after an incremental change
    t4 = time.perf_counter()
    lat = []
    for q in ("पुतिन किम मुलाक़ात", "India Australia cricket", "बाढ़ में कितने लोग मारे गए", "election"):
        s = time.perf_counter()
        index.search(q, top_k=10)
        lat.append(time.perf_counter() - s)
    index.close()
    return {
        "chunks": len(chunks),
        "avg_terms_per_chunk": round(mean(len(analyze(c[1])) for c in chunks[:500]) or 0.0, 1),
        "add_all_s": round(t1 - t0, 3),
        "first_search_rebuild_s": round(t2 - t1, 3),
        "readd_one_article_s": round(t3 - t2, 4),
        "search_after_change_rebuild_s": round(t4 - t3, 3),
        "warm_search_ms_mean": round(1000 * sum(lat) / len(lat), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", choices=["article", "paragraph"], default="article")
    parser.add_argument("--rebuild-chunks", type=int, default=10_000, help="0 skips the rebuild timing")
    args = parser.parse_args(argv)

    if not (XQUAD / "articles.jsonl").exists() or not BBC_HINDI.exists():
        print(f"Shared data not found under {DATA}; nothing to benchmark.", file=sys.stderr)
        return 0

    articles = read_jsonl(XQUAD / "articles.jsonl") + read_jsonl(BBC_HINDI)
    questions = read_jsonl(XQUAD / "questions.jsonl")
    docs = documents(articles, args.unit)
    print(f"{len(articles)} articles -> {len(docs)} documents ({args.unit}), {len(questions)} questions")

    results: dict[str, Any] = {"unit": args.unit, "articles": len(articles), "documents": len(docs)}
    systems: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, titles, stem in (
            ("ours", True, True),
            ("ours, no stemming", True, False),
            ("ours, no titles", False, True),
        ):
            rank, timing = ours(docs, Path(tmp) / name.replace(", ", "-").replace(" ", "-"), titles, stem)
            systems[name] = {"scores": evaluate(rank, questions), "timing": timing}
        for name, tokenize, titles in (
            ("bm25s default tokenizer", bm25s_default_tokenize, True),
            ("bm25s default tokenizer, no titles", bm25s_default_tokenize, False),
            ("word_tokens, no stopwords", word_tokens_only, True),
        ):
            systems[name] = {"scores": evaluate(bm25s_plain(docs, tokenize, titles), questions)}
        if args.rebuild_chunks > 0:
            results["rebuild"] = rebuild_timing(args.rebuild_chunks, Path(tmp) / "rebuild")
    results["systems"] = systems

    header = f"{'system':38} {'lang':4} {'n':>4} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'empty':>5}"
    print(header)
    print("-" * len(header))
    for name, system in systems.items():
        for language, row in system["scores"].items():
            print(
                f"{name:38} {language:4} {row['n']:>4} {row['hit@1']:>6.3f} {row['hit@5']:>6.3f} "
                f"{row['hit@10']:>6.3f} {row['no_result']:>5}"
            )
    hindi_hit5 = systems["ours"]["scores"].get("hi", {}).get("hit@5", 0.0)
    verdict = "met" if hindi_hit5 >= 0.95 else "NOT met"
    print(f"\nTarget Hindi hit@5 >= 0.95 with our analyzer: {hindi_hit5:.3f} ({verdict})")
    if "rebuild" in results:
        print("LexicalIndex timing:", json.dumps(results["rebuild"]))

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
