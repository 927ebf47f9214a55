"""Answering at 1k, 10k and 100k chunks: `ask` p50/p95, peak RSS, size on disk, time to open.

Why synthetic rows: embedding 100k chunks and their sentences takes about two days on this
machine. So each size is built from the real embedded rows of an existing eval index (the
realtimeqa-dev one: CNN gold articles + BBC English distractors), copied as whole articles — every
chunk with its sentences — and, past the real rows, as synthetic copies of real articles under
new ids and content hashes, their vectors perturbed (Gaussian noise, renormalised; cosine to the
original about 0.98). Every row is written through ``Index.write`` and the manifest as ingestion
writes them (Chroma chunks and sentences, BM25 rows, manifest), so the stores are the real ones.
The copies repeat real texts, so BM25 term frequencies grow as they would with more of the same
news; the answers exist in the collection (the real gold articles are always included).

Each size is measured in a fresh worker process (so its peak RSS and open time are its own),
with the model loaded before the index is opened. ``--before CHECKOUT`` runs a second worker per
size on another checkout's code over the same index, and asks both the same questions back to
back, alternating who goes first (as ``bench/code_latency.py``), so a fix is measured side by side.

    python bench/scale.py build --data-dir DIR --source-data-dir EVAL_DIR [--sizes 1000 10000 100000]
    python bench/scale.py ask --data-dir DIR [--questions 100] [--before CHECKOUT] [--plot]
    python bench/scale.py cold --data-dir DIR --size 100000 [--runs 3]

Questions: the realtimeqa-dev questions, then the titles of distractor articles in the index
asked as questions, up to ``--questions``. Writes ``bench/results/scale.json`` (``ask`` and
``cold`` each update their own part) and, with ``--plot``, ``docs/scale.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from latency import percentile  # bench/ is the script folder, on sys.path
from machine import machine  # bench/ is the script folder, on sys.path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
QUESTIONS = DATA / "eval" / "realtimeqa-dev" / "questions.jsonl"
OUT = ROOT / "bench" / "results" / "scale.json"
PLOT = ROOT / "docs" / "scale.png"
SOURCE_INDEX = "eval-ff166125ad16"  # realtimeqa-dev + BBC English distractors, as `khabar eval` built it
SIZES = (1000, 10_000, 100_000)
NOISE = 0.01  # per-dimension standard deviation of the perturbation (384 dimensions: cos ~0.98)
WARM_UP = 5
THREADS_VARIANT = "after, KHABAR_EMBED_THREADS="
TIMEOUT_S = 1800


def index_name(size: int) -> str:
    return f"scale-{size}"


def size_dir(data_dir: Path, size: int) -> Path:
    """One data dir per size: its disk size is the whole folder, Chroma's SQLite included."""
    return data_dir / f"{size // 1000}k"


# --- building -------------------------------------------------------------------------------


def read_source(data_dir: Path, name: str) -> list[dict[str, Any]]:
    """Every article content of the source index: its article fields, chunks and sentences with
    their vectors, gold (realtimeqa) articles first. Read with chromadb directly, no writes."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from index.store import ARTICLE_KEYS

    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    include: Any = ["embeddings", "documents", "metadatas"]
    articles: dict[str, dict[str, Any]] = defaultdict(lambda: {"chunks": [], "sentences": []})
    for kind, collection in (("chunks", name), ("sentences", name + "-sentences")):
        got = client.get_collection(collection).get(include=include)
        for text, meta, vector in zip(got["documents"], got["metadatas"], got["embeddings"], strict=True):
            article = articles[str(meta["content_hash"])]
            article["fields"] = {k: meta[k] for k in ARTICLE_KEYS if k in meta}
            key = int(meta.get("chunk_index", 0)) if kind == "chunks" else int(meta["start"])
            article[kind].append((key, int(meta["start"]), int(meta["end"]), text or "", vector))
    found = [a for a in articles.values() if a["chunks"]]
    for a in found:
        a["chunks"].sort(key=lambda row: row[0])
        a["sentences"].sort(key=lambda row: (row[1], row[2]))
    found.sort(
        key=lambda a: (not str(a["fields"]["article_id"]).startswith("rtqa-"), a["fields"]["article_id"])
    )
    return found


def _perturbed(vectors: Any, rng: Any, noise: float) -> Any:
    import numpy as np

    vectors = np.asarray(vectors, dtype=np.float32)
    if noise <= 0 or not len(vectors):
        return vectors
    moved = vectors + rng.normal(0.0, noise, vectors.shape).astype(np.float32)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


class _Buffered:
    """Collects the nodes ``Index.write`` adds to one Chroma store and adds them in batches."""

    def __init__(self, store: Any, batch: int):
        self.store, self.batch, self.nodes = store, batch, []

    def add(self, nodes: list[Any]) -> None:
        self.nodes.extend(nodes)
        if len(self.nodes) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.nodes:
            self.store.add(self.nodes)
            self.nodes = []


class _BatchedStores:
    def __init__(self, stores: Any, batch: int):
        self.stores = stores
        self.chunks, self.sentences = _Buffered(stores.chunks, batch), _Buffered(stores.sentences, batch)

    def flush(self) -> None:
        self.sentences.flush()  # sentences first, as Index.write adds them
        self.chunks.flush()


def _batched_writes(index: Any, batch: int = 4000) -> _BatchedStores:
    """Make the build take minutes, not hours, with the rows exactly as ``Index.write`` makes them:
    one Chroma add per article costs a synced SQLite transaction each (~0.1 s), so the nodes of
    many articles are added at once; the synthetic copies repeat real texts, so their BM25 terms
    are analysed once per text; and the manifest does not sync every row to disk. Bench-only
    shortcuts over the index's internals; what is stored is the same."""
    from functools import lru_cache

    stores = _BatchedStores(index._stores, batch)
    index._stores = stores
    analysed = index._lexical._terms
    terms = lru_cache(maxsize=None)(lambda text, title: tuple(analysed(text, {"title": title})))
    index._lexical._terms = lambda text, metadata: list(terms(text, str(metadata.get("title") or "")))
    index.manifest._db.execute("PRAGMA synchronous=OFF")
    return stores


def record_sentence_rows(index: Any, page: int = 5000) -> None:
    """Record every content's sentences in the side table, as ``Index.write`` does now, for rows
    written before it did (else read from Chroma once per content by the first question needing it)."""
    from index.store import sentence_span

    collection = index._stores.sentence_collection
    rows: dict[str, list[tuple[str, str, Any]]] = defaultdict(list)
    offset = 0
    while True:
        got = collection.get(include=["metadatas", "documents", "embeddings"], limit=page, offset=offset)
        for row_id, meta, text, vector in zip(
            got["ids"], got["metadatas"], got["documents"], got["embeddings"], strict=True
        ):
            rows[str(meta["content_hash"])].append((row_id, text or "", vector))
        if len(got["ids"]) < page:
            break
        offset += page
    for h, found in rows.items():
        found.sort(key=lambda row: sentence_span(row[0]))
        index._sentence_rows.put(h, [r[0] for r in found], [r[1] for r in found], [r[2] for r in found])
    print(f"{index.name}: sentences of {len(rows)} contents recorded")


def build(data_dir: Path, size: int, source: list[dict[str, Any]], noise: float) -> dict[str, Any]:
    """Write ``size`` chunks (whole articles, so the last may overshoot by a few) into a fresh
    index: the real articles first, then synthetic copies of them, round after round."""
    import numpy as np

    from index.records import Article, Chunk, Sentence
    from khabar import components
    from khabar.settings import Settings

    settings = Settings(data_dir=size_dir(data_dir, size), index_name=index_name(size))
    index = components.open_index(settings)
    if index.count() >= size:
        print(f"{index.name}: {index.count()} chunks already stored")
        record_sentence_rows(index)
        return {"chunks": index.count(), "reused": True}
    if index.count():
        raise SystemExit(f"{index.name} is half-built ({index.count()} chunks): delete {settings.data_dir}")
    rng = np.random.default_rng(size)
    buffered = _batched_writes(index)
    stored = sentences = synthetic = contents = 0
    t0 = time.perf_counter()
    with index.writing(timeout=60):
        copy = 0
        while stored < size:
            for a in source:
                if stored >= size:
                    break
                fields = a["fields"]
                # A copy is another article: a new id and a new text, hence a new content hash
                # (the text only names the copy: Index.write stores the chunks' texts, not it).
                article = Article(
                    id=fields["article_id"] if copy == 0 else f"{fields['article_id']}~{copy}",
                    title=str(fields.get("title", "")),
                    text=f"{fields['content_hash']}#{copy}",
                    language=str(fields.get("language", "")),
                    source=str(fields.get("source", "")),
                    category=str(fields.get("category", "")),
                    url=str(fields.get("url", "")),
                    published=str(fields.get("published", "")),
                    path=str(fields.get("path", "")),
                )
                h = article.content_hash
                chunks = [Chunk(f"{h[:16]}:{i}", i, s, e, t) for i, s, e, t, _ in a["chunks"]]
                rows = [Sentence(s, e, t) for _, s, e, t, _ in a["sentences"]]
                level = noise if copy else 0.0
                chunk_vectors = _perturbed([r[4] for r in a["chunks"]], rng, level)
                sentence_vectors = _perturbed([r[4] for r in a["sentences"]], rng, level)
                index.manifest.begin_content(h, article.id, article.title, len(chunks))
                index.write(article, chunks, chunk_vectors.tolist(), rows, sentence_vectors.tolist())
                index.manifest.complete_content(h)
                index.manifest.set_name(article.id, h, article.path)
                stored += len(chunks)
                sentences += len(rows)
                synthetic += len(chunks) if copy else 0
                contents += 1
                if contents % 500 == 0:
                    rate = stored / (time.perf_counter() - t0)
                    print(f"  {index.name}: {stored} chunks, {rate:.0f} chunks/s", flush=True)
            copy += 1
        buffered.flush()
    index._stores = buffered.stores  # Index.write recorded the sentence rows as it went
    index.close()
    seconds = time.perf_counter() - t0
    print(
        f"{index_name(size)}: {stored} chunks ({synthetic} synthetic), {sentences} sentences, {seconds:.0f} s"
    )
    return {
        "chunks": stored,
        "synthetic_chunks": synthetic,
        "sentences": sentences,
        "contents": contents,
        "build_s": round(seconds, 1),
    }


def build_command(args: argparse.Namespace) -> int:
    source = read_source(args.source_data_dir, args.source_index)
    n_chunks = sum(len(a["chunks"]) for a in source)
    n_sentences = sum(len(a["sentences"]) for a in source)
    print(f"source {args.source_index}: {len(source)} contents, {n_chunks} chunks, {n_sentences} sentences")
    built = {str(size): build(args.data_dir, size, source, args.noise) for size in args.sizes}
    info = {
        "source": {"index": args.source_index, "contents": len(source), "chunks": n_chunks},
        "noise": args.noise,
        "built": built,
    }
    args.data_dir.mkdir(parents=True, exist_ok=True)
    record = args.data_dir / "scale-build.json"
    if record.is_file():  # sizes built by an earlier run stay recorded
        earlier = json.loads(record.read_text(encoding="utf-8")).get("built", {})
        info["built"] = {**earlier, **{k: v for k, v in built.items() if not v.get("reused")}}
    record.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return 0


# --- asking ---------------------------------------------------------------------------------

# Runs in a fresh process on one checkout's code: loads the model, then opens the index (timed),
# answers one warm-up question (timed: Chroma and BM25 load lazily on the first search), then one
# question per input line; at the end of input, its peak RSS.
WORKER = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from khabar import components
from khabar.settings import Settings
settings = Settings(data_dir=sys.argv[1], index_name=sys.argv[2])
model = components.embedder(settings)
model.embed_query("warm-up")
t1 = time.perf_counter()
rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
service = components.service(settings)
t2 = time.perf_counter()
service.ask(sys.argv[3])
t3 = time.perf_counter()
print(json.dumps({"ready": service.index.count(), "model_s": t1 - t0, "open_s": t2 - t1,
                  "first_answer_s": t3 - t2, "rss_after_model_mb": rss_model}), flush=True)
for line in sys.stdin:
    question = json.loads(line)
    t0 = time.perf_counter()
    answer = service.ask(question)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ms": ms, "answer": answer.text, "timings": answer.timings_ms}), flush=True)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


class Worker:
    def __init__(self, code: Path, data_dir: Path, name: str, first_question: str, threads: int = 0):
        self.code = code
        env = {**os.environ, "PYTHONPATH": str(code.resolve())}
        if threads:  # torch's intra-op threads (its default: one per core)
            env["KHABAR_EMBED_THREADS"] = str(threads)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(data_dir), name, first_question],
            cwd=code,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker for {self.code} stopped (see its stderr above)")
        return json.loads(line)

    def ask(self, question: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(question) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        last = self._read()
        self.proc.wait(timeout=TIMEOUT_S)
        return last


def questions(data_dir: Path, size: int, n: int) -> list[tuple[str, list[str]]]:
    """The realtimeqa-dev questions (with their answers), then distractor titles asked as questions
    (no answer to check), ``n`` in all: the same for every size (real articles are in all)."""
    import sqlite3

    from index.store import index_folder

    asked = [(q["question"], q["answers"]) for q in map(json.loads, QUESTIONS.open(encoding="utf-8"))]
    folder = index_folder(size_dir(data_dir, size), index_name(size))
    with sqlite3.connect(f"file:{folder / 'lexical.sqlite'}?mode=ro", uri=True) as conn:
        titles = conn.execute(
            "SELECT DISTINCT json_extract(metadata, '$.title') AS t FROM chunks "
            "WHERE json_extract(metadata, '$.article_id') NOT LIKE 'rtqa-%' "
            "AND json_extract(metadata, '$.article_id') NOT LIKE '%~%' AND t != '' ORDER BY t"
        ).fetchall()
    asked += [(str(t), []) for (t,) in titles]
    return asked[:n]


def answered(text: str, answers: list[str]) -> bool:
    import unicodedata

    norm = unicodedata.normalize("NFC", text).casefold()
    return any(unicodedata.normalize("NFC", a).casefold().strip('“”"') in norm for a in answers)


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def measure(size: int, args: argparse.Namespace, checkouts: dict[str, Path]) -> dict[str, Any]:
    data_dir = size_dir(args.data_dir, size)
    asked = questions(args.data_dir, min(args.sizes), args.questions)
    workers: dict[str, Worker] = {}
    for name, code in checkouts.items():  # one after the other: each open is timed alone
        threads = args.torch_threads if name.startswith(THREADS_VARIANT) else 0
        workers[name] = Worker(code, data_dir, index_name(size), "warm-up question", threads)
    for question, _ in asked[:WARM_UP]:
        for worker in workers.values():
            worker.ask(question)
    times: dict[str, list[float]] = {name: [] for name in workers}
    stages: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in workers}
    right: dict[str, int] = dict.fromkeys(workers, 0)
    same = 0
    for i, (question, answers) in enumerate(asked):
        order = list(workers) if i % 2 == 0 else list(workers)[::-1]
        got = {name: workers[name].ask(question) for name in order}
        for name, reply in got.items():
            times[name].append(reply["ms"])
            for stage, ms in reply["timings"].items():
                stages[name][stage].append(ms)
            right[name] += bool(answers) and answered(reply["answer"], answers)
        same += len({reply["answer"] for reply in got.values()}) == 1
    ends = {name: worker.close() for name, worker in workers.items()}
    row: dict[str, Any] = {
        "chunks": workers[next(iter(workers))].ready["ready"],
        "disk_mb": folder_mb(data_dir),
        "questions": len(asked),
        "with_answers": sum(bool(a) for _, a in asked),
    }
    for name, worker in workers.items():
        ready = worker.ready
        row[name] = {
            "p50_ms": round(statistics.median(times[name]), 1),
            "p95_ms": round(percentile(times[name], 0.95), 1),
            "stage_p50_ms": {k: round(statistics.median(v), 1) for k, v in stages[name].items()},
            "open_s": round(ready["open_s"], 2),
            "first_answer_s": round(ready["first_answer_s"], 2),
            "rss_after_model_mb": round(ready["rss_after_model_mb"]),
            "peak_rss_mb": round(ends[name]["peak_rss_mb"]),
            "answered_right": right[name],
        }
    if len(workers) > 1:
        row["same_answer_text"] = same
    return row


def ask_command(args: argparse.Namespace) -> int:
    checkouts = {"after": ROOT}
    if args.before:
        checkouts = {"before": args.before, "after": ROOT}
    if args.torch_threads:
        checkouts[f"{THREADS_VARIANT}{args.torch_threads}"] = ROOT
    result: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    build_record = args.data_dir / "scale-build.json"
    result["ask"] = {
        "command": "python bench/scale.py ask --data-dir DIR " + " ".join(_shown(sys.argv[2:])),
        "machine": machine(),
        "synthetic": (
            "past the real rows, each size holds synthetic copies of real articles (new ids and "
            f"content hashes, vectors perturbed by N(0, {NOISE}) per dimension and renormalised)"
        ),
        "built": json.loads(build_record.read_text(encoding="utf-8"))["built"]
        if build_record.is_file()
        else {},
        "checkouts": {name: _commit(code) for name, code in checkouts.items()},
        "sizes": {},
    }
    print(json.dumps(result["ask"]["machine"]))
    for size in args.sizes:
        row = measure(size, args, checkouts)
        result["ask"]["sizes"][str(size)] = row
        for name in checkouts:
            r = row[name]
            print(
                f"{row['chunks']:>7} chunks {name:6} p50 {r['p50_ms']:>7} ms  p95 {r['p95_ms']:>7} ms  "
                f"open {r['open_s']:>5} s  first {r['first_answer_s']:>5} s  "
                f"peak RSS {r['peak_rss_mb']:>5} MB  "
                f"disk {row['disk_mb']} MB  right {r['answered_right']}/{row['with_answers']}  "
                f"stages {r['stage_p50_ms']}",
                flush=True,
            )
    result["ask"]["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    if args.plot:
        plot(result["ask"])
    return 0


def _shown(argv: list[str]) -> list[str]:
    """The command's options without machine paths."""
    shown, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--data-dir", "--before"):
            skip = arg == "--data-dir"
            shown.append("--before CHECKOUT" if arg == "--before" else "")
            skip = True
            continue
        shown.append(arg)
    return [a for a in shown if a]


def _commit(code: Path) -> str:
    got = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (got.stdout.strip() or "unknown") + ("+changes" if dirty else "")


def plot(ask: dict[str, Any]) -> None:
    """p50 and p95 against collection size (log scale), beside the targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(ask["sizes"].values(), key=lambda r: r["chunks"])
    fig, (ax, parts) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    names = [k for k, v in rows[0].items() if isinstance(v, dict) and "p50_ms" in v]
    chunks = [r["chunks"] for r in rows]
    for name, style in zip(names, ("--", "-", "-.", ":"), strict=False):
        label = f" ({name})" if len(names) > 1 else ""
        ax.plot(chunks, [r[name]["p50_ms"] for r in rows], "o" + style, color="C0", label="p50" + label)
        ax.plot(chunks, [r[name]["p95_ms"] for r in rows], "s" + style, color="C1", label="p95" + label)
        stages = [r[name]["stage_p50_ms"] for r in rows]
        parts.plot(chunks, [st["embed"] for st in stages], "o" + style, color="C2", label="embed" + label)
        parts.plot(
            chunks,
            [st["retrieve"] + st["answer"] for st in stages],
            "s" + style,
            color="C3",
            label="retrieve + rerank + evidence + answer" + label,
        )
    ax.axhline(100, color="C0", lw=0.8, ls=":", label="p50 target")
    ax.axhline(250, color="C1", lw=0.8, ls=":", label="p95 target")
    ax.set_title("ask, model loaded (2 shared cores; synthetic rows past 1.2k)", fontsize=9)
    ax.set_ylabel("ms")
    parts.set_title("p50 by stage (red: the part that reads the collection)", fontsize=9)
    for a in (ax, parts):
        a.set_xscale("log")
        a.set_ylim(bottom=0)
        a.set_xlabel("chunks (about 5.6 sentences each)")
        a.legend(fontsize=6)
        a.grid(alpha=0.3)
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT)
    print(f"wrote {PLOT.relative_to(ROOT)}")


# --- cold start -----------------------------------------------------------------------------

# `khabar serve` in a fresh process, split into its parts: the imports the command makes, building
# the service (model and index; timed inside ``Backend.from_settings``), the rest of the launch
# (the page and the web server, listening on a loopback port), and the first answer.
COLD = r"""
import json, socket, sys, time
t0 = time.perf_counter()
import khabar.cli
from khabar.web import serve
from khabar.web.backend import Backend
from khabar.settings import Settings
t1 = time.perf_counter()
made, real = {}, Backend.from_settings.__func__
def from_settings(cls, settings):
    t = time.perf_counter()
    made["backend"] = real(cls, settings)
    made["build_s"] = time.perf_counter() - t
    return made["backend"]
Backend.from_settings = classmethod(from_settings)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
settings = Settings(data_dir=sys.argv[1], index_name=sys.argv[2])
served = serve.launch(settings, host="127.0.0.1", port=port, block=False)
t2 = time.perf_counter()
answer = made["backend"].service.ask(sys.argv[3])
t3 = time.perf_counter()
served.close()
print(json.dumps({"imports_s": t1 - t0, "build_service_s": made["build_s"],
                  "launch_web_s": t2 - t1 - made["build_s"], "first_answer_s": t3 - t2,
                  "serve_to_first_answer_s": t3 - t0, "answer": answer.text[:80]}), flush=True)
"""


def cold_once(code: Path, data_dir: Path, name: str, question: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code.resolve()), "GRADIO_ANALYTICS_ENABLED": "False"}
    t0 = time.perf_counter()
    got = subprocess.run(
        [sys.executable, "-c", COLD, str(data_dir), name, question],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    wall = time.perf_counter() - t0
    if got.returncode != 0:
        raise RuntimeError(f"cold start on {code} failed:\n{got.stderr[-2000:]}")
    row = json.loads(got.stdout.strip().splitlines()[-1])
    row["process_wall_s"] = wall  # with the interpreter's own start
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}


def cold_command(args: argparse.Namespace) -> int:
    """Each run: a fresh `khabar serve` process per checkout, back to back, alternating who goes
    first; the model is materialised already (any earlier run did it)."""
    checkouts = {"after": ROOT} if not args.before else {"before": args.before, "after": ROOT}
    question = json.loads(QUESTIONS.open(encoding="utf-8").readline())["question"]
    data_dir, name = size_dir(args.data_dir, args.size), index_name(args.size)
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in checkouts}
    for i in range(args.runs):
        order = list(checkouts) if i % 2 == 0 else list(checkouts)[::-1]
        for c in order:
            row = cold_once(checkouts[c], data_dir, name, question)
            runs[c].append(row)
            print(f"{c:6} {json.dumps(row)}", flush=True)
    result: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    keys = ("imports_s", "build_service_s", "launch_web_s", "first_answer_s", "serve_to_first_answer_s")
    result.setdefault("cold_start", {})[str(args.size)] = {
        "command": f"python bench/scale.py cold --data-dir DIR --size {args.size} --runs {args.runs}"
        + (" --before CHECKOUT" if args.before else ""),
        "machine": machine(),
        "checkouts": {c: _commit(code) for c, code in checkouts.items()},
        "median": {
            c: {k: round(statistics.median(r[k] for r in rows), 2) for k in keys} for c, rows in runs.items()
        },
        "runs": runs,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for c, med in result["cold_start"][str(args.size)]["median"].items():
        print(f"{c:6} median {med}")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


def table_command(args: argparse.Namespace) -> int:
    """The README's table, from ``bench/results/scale.json``."""
    result = json.loads(OUT.read_text(encoding="utf-8"))
    sizes = result["ask"]["sizes"]
    names = [k for k, v in next(iter(sizes.values())).items() if isinstance(v, dict) and "p50_ms" in v]
    print("| chunks (sentences) | code | ask p50 | ask p95 | open + first answer | peak RSS | on disk |")
    print("|---|---|---|---|---|---|---|")
    built = result["ask"].get("built", {})
    for size, row in sizes.items():
        sentences = built.get(size, {}).get("sentences")
        shown = f"{row['chunks']:,}" + (f" ({sentences:,})" if sentences else "")
        for name in names:
            r = row[name]
            print(
                f"| {shown} | {name} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | "
                f"{r['open_s']:.1f} + {r['first_answer_s']:.1f} s | {r['peak_rss_mb'] / 1024:.2f} GB | "
                f"{row['disk_mb'] / 1024:.2f} GB |"
            )
    for size, cold in result.get("cold_start", {}).items():
        print(f"\ncold start at {size} chunks (medians of {len(next(iter(cold['runs'].values())))} runs):")
        print("| code | imports | build service | launch web | first answer | serve to first answer |")
        print("|---|---|---|---|---|---|")
        for name, m in cold["median"].items():
            print(
                f"| {name} | {m['imports_s']} s | {m['build_service_s']} s | {m['launch_web_s']} s | "
                f"{m['first_answer_s']} s | {m['serve_to_first_answer_s']} s |"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="Build the indexes of each size from a source eval index.")
    b.add_argument("--source-data-dir", type=Path, required=True, help="Data dir of the source eval index.")
    b.add_argument("--source-index", default=SOURCE_INDEX)
    b.add_argument("--noise", type=float, default=NOISE)
    a = commands.add_parser("ask", help="Measure ask latency, RSS, disk and open time per size.")
    a.add_argument("--questions", type=int, default=100, help="How many questions per size.")
    a.add_argument("--before", type=Path, default=None, help="Another checkout to measure side by side.")
    a.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="Also measure this checkout with KHABAR_EMBED_THREADS=N, side by side.",
    )
    a.add_argument("--plot", action="store_true", help=f"Also draw {PLOT.relative_to(ROOT)}.")
    c = commands.add_parser("cold", help="Time `khabar serve` to its first answer in fresh processes.")
    c.add_argument("--size", type=int, default=SIZES[-1], help="The index size to serve.")
    c.add_argument("--runs", type=int, default=3)
    c.add_argument("--before", type=Path, default=None, help="Another checkout to time side by side.")
    c.add_argument("--data-dir", type=Path, required=True)
    commands.add_parser("table", help="Print the README table from the results JSON.")
    for p in (b, a):
        p.add_argument("--data-dir", type=Path, required=True, help="Where the indexes of each size go.")
        p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.command == "build":
        return build_command(args)
    if args.command == "ask":
        return ask_command(args)
    if args.command == "table":
        return table_command(args)
    if args.command == "cold":
        return cold_command(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
