"""Time to chunk one big article: does chunking stay linear in the article's size?

Why: a book-length file is one article, and chunking it once cost O(chunks x sentences) (every
chunk scanned every sentence of the article, and hashed the whole text again for its id): 1 MB
took seconds, 30 MB never finished. This chunks generated articles of 0.25, 0.5, 1 and 2 MB
(UTF-8 bytes) with the real bundled model's tokenizer and the default chunk settings, and prints
the seconds and the seconds per MB: linear code keeps the latter flat.

    python bench/chunking_speed.py [--sizes 0.25 0.5 1 2] [--before OLD/ingest/chunking.py --before-label X]

``--before`` also times another version of ``ingest/chunking.py`` (e.g. the parent commit's,
``git show HEAD~:ingest/chunking.py > /tmp/chunking_before.py``) on the same articles, and
checks that both give the same chunks. The articles need no data beside the project: they are
the sentences of the bundled corpus article, shuffled into paragraphs with a fixed seed. Writes
``bench/results/chunking_speed.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_FILE = ROOT / "corpus" / "putin-kim-invitation-hi.txt"
OUT = ROOT / "bench" / "results" / "chunking_speed.json"
MB = 1_000_000


def generated_article_text(size_bytes: int, seed: int = 0) -> str:
    """Paragraphs of 1-6 sentences drawn from the corpus article, ``size_bytes`` of UTF-8 or just over."""
    sys.path.insert(0, str(ROOT))
    from ingest.chunking import split_sentences

    source = CORPUS_FILE.read_text(encoding="utf-8")
    sentences = [s.text for s in split_sentences(source, "hi")]
    rng = random.Random(seed)
    paragraphs, size = [], 0
    while size < size_bytes:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 6)))
        paragraphs.append(paragraph)
        size += len(paragraph.encode()) + 1
    return "\n".join(paragraphs)


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location("chunking_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.5, 1, 2], help="sizes in MB")
    parser.add_argument("--before", type=Path, help="another chunking.py to time on the same articles")
    parser.add_argument("--before-label", help="what --before is, for the results (default: its path)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from index.records import Article
    from ingest.chunking import Chunker
    from khabar import components
    from khabar.settings import Settings

    settings = Settings()
    model = components.embedder(settings)
    chunk_args = (model.token_ids, settings.chunk_tokens, settings.chunk_overlap_tokens)
    versions = {"after": Chunker(*chunk_args)}
    if args.before is not None:
        versions["before"] = load_module(args.before).Chunker(*chunk_args)
    versions["after"].chunk(Article(id="warm", title="", text="Warm up. The tokenizer.", language="hi"))

    rows = []
    for mb in args.sizes:
        text = generated_article_text(int(mb * MB))
        article = Article(id="big.txt", title="Big", text=text, language="hi")
        row: dict = {"mb": mb, "bytes": len(text.encode()), "chars": len(text)}
        outputs = {}
        for name, chunker in versions.items():
            t0 = time.perf_counter()
            outputs[name] = chunker.chunk(article)
            seconds = time.perf_counter() - t0
            row[name] = {"seconds": round(seconds, 3), "seconds_per_mb": round(seconds / mb, 3)}
            row["chunks"] = n = len(outputs[name])
            print(f"{mb:5} MB  {name:6}  {seconds:8.2f} s  {seconds / mb:7.2f} s/MB  {n} chunks")
        if "before" in outputs:
            row["same_chunks"] = outputs["before"] == outputs["after"]
            print(f"{mb:5} MB  same chunks: {row['same_chunks']}")
        rows.append(row)

    result = {
        "date": date.today().isoformat(),
        "what": "seconds to chunk one generated Hindi article (UTF-8 MB), default chunk settings",
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_tokens": settings.chunk_overlap_tokens,
        "embed_model": settings.embed_model,
        "before": (args.before_label or str(args.before)) if args.before else None,
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "sizes": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if all(row.get("same_chunks", True) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
