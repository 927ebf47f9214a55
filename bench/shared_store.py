"""The BM25 side on a `chroma run` server (KHABAR_CHROMA_MODE=http) against the SQLite file of
embedded mode: what the change-token check costs per search, how long a rebuild, a warm search
and one article's write take, and how long another process takes to find a new article by BM25.

Setup: ``--chunks`` chunk-sized windows (150 words, stride 120, eight to an article) of the shared
corpora, as ``bm25_only.py`` times the rebuild; the default is the size of the realtimeqa-dev eval
index. Both stores get the same rows. A `chroma run` server is started on a free loopback port over
a temporary folder and stopped at the end. The lag is measured from the moment the writer's
``LexicalIndex.add`` returns to the moment a reader in another process, searching every 10 ms, first
finds a word only the new article has.

Run from the project root: ``python bench/shared_store.py``. Writes ``bench/results/shared_store.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CORPORA = [DATA / "corpora" / n for n in ("bbc-english.jsonl", "bbc-hindi.jsonl", "ednil-hindi.jsonl")]
OUT = ROOT / "bench" / "results" / "shared_store.json"
QUERIES = ("पुतिन किम मुलाक़ात", "India Australia cricket", "बाढ़ में कितने लोग मारे गए", "election")

# The reader process: opens the store, builds, then reports when it first finds each word it is
# given on stdin (one per line), searching every 10 ms.
READER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from index.chroma import ChromaConfig, chroma_client
from index.lexical import LexicalIndex
from index.side import ChromaTerms
kind, where = sys.argv[2], sys.argv[3]
if kind == "sqlite":
    index = LexicalIndex(where)
else:
    host, port, name = where.split(":")
    index = LexicalIndex(ChromaTerms(chroma_client(ChromaConfig("http", ".", host, int(port))), name))
index.search("warm", 1)
print("ready", flush=True)
for line in sys.stdin:
    word = line.strip()
    deadline = time.monotonic() + 60
    while not index.search(word, 1) and time.monotonic() < deadline:
        time.sleep(0.01)
    print(json.dumps({"word": word, "found": time.time()}), flush=True)
"""


def windows(n_chunks: int) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    words: list[str] = []
    for path in CORPORA:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    words.extend(json.loads(line)["text"].split())
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    start, n = 0, 0
    while n < n_chunks:
        h = f"c{n // 8:05d}"
        meta = {
            "article_id": h,
            "content_hash": h,
            "language": "hi",
            "source": "x",
            "published": "2024-01-01",
        }
        groups.setdefault(h, []).append((f"{h}:{n % 8}", " ".join(words[start : start + 150]), meta))
        start = (start + 120) % max(1, len(words) - 150)
        n += 1
    return groups


def mean_ms(call: Callable[[], Any], n: int) -> float:
    call()
    started = time.perf_counter()
    for _ in range(n):
        call()
    return round(1000 * (time.perf_counter() - started) / n, 4)


def start_server(folder: Path) -> tuple[subprocess.Popen, int]:
    command = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if command is None:
        raise SystemExit("the `chroma` command is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(
        [command, "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("`chroma run` did not answer within 60 s")


def visibility_lag(index: Any, reader_args: list[str], rounds: int) -> list[float]:
    """Seconds from the writer's add returning to the reader process finding the new article."""
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(ROOT), *reader_args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().strip() == "ready"
        lags = []
        for i in range(rounds):
            word = f"zorblaxian{i}"
            reader.stdin.write(word + "\n")
            reader.stdin.flush()
            time.sleep(0.5)  # the reader is polling, with the article absent
            meta = {"article_id": word, "content_hash": word, "language": "en"}
            index.add(word, [(f"{word}:0", f"The {word} council met on Tuesday.", meta)])
            written = time.time()
            found = json.loads(reader.stdout.readline())
            lags.append(round(found["found"] - written, 3))
        return lags
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)


def measure(index: Any, groups: dict[str, list], bulk: Callable[[], None], reader_args: list[str]) -> dict:
    from index.analysis import analyze

    started = time.perf_counter()
    bulk()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    index.search("पुतिन", top_k=10)  # the first search builds from the store
    rebuild = time.perf_counter() - started
    write = []
    for h in list(groups)[:10]:  # one article (eight chunks) written again, as an ingest does
        rows = [(cid, text + " again", meta) for cid, text, meta in groups[h]]
        started = time.perf_counter()
        index.add(h, rows)
        write.append(time.perf_counter() - started)
    started = time.perf_counter()
    index.search("पुतिन", top_k=10)
    rebuild_after = time.perf_counter() - started
    search = [mean_ms(lambda q=q: index.search(q, top_k=10), 20) for q in QUERIES]
    lags = visibility_lag(index, reader_args, rounds=5)
    return {
        "load_s": round(loaded, 2),
        "first_search_rebuild_s": round(rebuild, 3),
        "search_after_change_rebuild_s": round(rebuild_after, 3),
        "write_one_article_ms_mean": round(1000 * statistics.mean(write), 1),
        "warm_search_ms_mean": round(statistics.mean(search), 2),
        "token_check_ms": mean_ms(index.generation, 500),
        "other_process_sees_new_article_s": lags,
        "avg_terms_per_chunk": round(
            statistics.mean(len(analyze(t)) for g in groups.values() for _, t, _ in g[:1]), 1
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=7100)
    args = parser.parse_args(argv)
    if not all(p.exists() for p in CORPORA):
        print(f"{DATA} is absent (development data lives beside the project); nothing measured")
        return 0
    sys.path.insert(0, str(ROOT))
    from index.chroma import ChromaConfig, chroma_client
    from index.lexical import LexicalIndex
    from index.side import TOKEN_CHECK_SECONDS, ChromaTerms

    load_before = os.getloadavg()[0]
    groups = windows(args.chunks)
    results: dict[str, Any] = {"chunks": args.chunks, "token_check_seconds": TOKEN_CHECK_SECONDS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sqlite = LexicalIndex(folder / "lexical")

        def sqlite_bulk() -> None:
            for h, rows in groups.items():
                sqlite.add(h, rows)

        results["sqlite"] = measure(sqlite, groups, sqlite_bulk, ["sqlite", str(folder / "lexical")])
        sqlite.close()

        server, port = start_server(folder)
        try:
            client = chroma_client(ChromaConfig("http", folder, "127.0.0.1", port))
            terms = ChromaTerms(client, "bench")
            chroma = LexicalIndex(terms)

            def chroma_bulk() -> None:
                # Every row in large batches and one token (an ingest writes article by article:
                # see write_one_article_ms_mean).
                rows = [
                    (cid, h, " ".join(chroma._terms(text, meta)), json.dumps(meta), text)
                    for h, group in groups.items()
                    for cid, text, meta in group
                ]
                terms._upsert(rows)
                terms.touch()

            results["chroma_server"] = measure(
                chroma, groups, chroma_bulk, ["chroma", f"127.0.0.1:{port}:bench"]
            )
            uncached = ChromaTerms(client, "bench", check_seconds=0)
            results["chroma_server"]["token_check_uncached_ms"] = mean_ms(uncached.generation, 200)
        finally:
            server.terminate()
            server.wait(timeout=30)
    results["load_average_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    OUT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
