"""Two app processes with different data dirs on one `chroma run` server (KHABAR_CHROMA_MODE=http):
what one ingests, the other finds by dense and by lexical search and answers from, without a
restart; what one prunes, the other stops finding. Nothing of the index stays in a data dir."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from khabar import components
from tests.factories import stop_process, with_corpus

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "vellinore-harbour.txt"
ARTICLE_TEXT = (
    "Port Vellinore closed its northern jetty on Tuesday after a cargo ship lost power near the "
    "breakwater. The harbour master, Zubeida Oyelaran-Whitcombe, said the jetty would reopen once "
    "divers had checked the pilings. Fishing boats were sent to the southern basin in the meantime. "
    "The ship, carrying timber, was towed to anchorage by two tugs and nobody was hurt."
)
QUESTION = "Who is the harbour master of Port Vellinore?"

# Process B: a service over its own data dir, reporting what its dense and lexical searches find
# of the article every time that changes (and, once both find it, whom its answer cites).
READER = """
import json, sys, time
from khabar import components
from khabar.settings import Settings

question, article, deadline = sys.argv[1], sys.argv[2], time.time() + float(sys.argv[3])
settings = Settings()
service = components.service(settings)
vector = components.embedder(settings).embed_query(question)
print(json.dumps({"ready": True}), flush=True)
last = None
while time.time() < deadline:
    lexical = [p.article_id for p in service.index.lexical_search(question, 5)]
    dense = [p.article_id for p in service.index.dense_search(vector, 5)]
    state = (article in lexical, bool(dense) and dense[0] == article)
    if state != last:
        record = {"t": time.time(), "lexical": state[0], "dense": state[1], "lexical_hits": lexical}
        if all(state):
            record["cited"] = [c.article_id for c in service.ask(question).citations]
        print(json.dumps(record), flush=True)
        last = state
    time.sleep(0.02)
"""


class Reader:
    """Process B, its report lines read by a thread so every wait is bounded."""

    def __init__(self, env: dict[str, str], cwd: Path, seconds: float):
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, QUESTION, ARTICLE, str(seconds)],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def until(self, wanted, seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                record = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if wanted(record):
                return record
        errors = self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""
        raise AssertionError(f"process B did not report it within {seconds} s {errors[-2000:]}")

    def stop(self) -> None:
        stop_process(self.process)


def test_one_process_ingests_and_prunes_and_another_sees_it(
    tmp_path, make_settings, chroma_server, model_cache, embed_model
):
    index_name = f"t-{os.urandom(6).hex()}"
    data_a, data_b, news = tmp_path / "a", tmp_path / "b", tmp_path / "news"
    news.mkdir()
    # The shipped corpus first (in this process, as A): B then has another article to rank against.
    with_corpus(make_settings(data_dir=data_a, **chroma_server.settings(index_name)))

    env = {k: v for k, v in os.environ.items() if not k.startswith("KHABAR_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "500",
        "KHABAR_MODEL_CACHE_DIR": str(model_cache),
        "KHABAR_CHROMA_MODE": "http",
        "KHABAR_CHROMA_HOST": chroma_server.host,
        "KHABAR_CHROMA_PORT": str(chroma_server.port),
        "KHABAR_INDEX_NAME": index_name,
    }
    reader = Reader(env | {"KHABAR_DATA_DIR": str(data_b)}, tmp_path, seconds=300)
    try:
        reader.until(lambda r: r.get("ready"), 240)
        first = reader.until(lambda r: "lexical" in r, 30)
        assert not first["lexical"] and not first["dense"]

        def ingest(*args: str) -> str:
            command = [sys.executable, "-m", "khabar.cli", "--data-dir", str(data_a), "ingest", *args]
            run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stdout + run.stderr
            return run.stdout

        (news / ARTICLE).write_text(ARTICLE_TEXT, encoding="utf-8")
        ingest(str(news))
        seen = reader.until(lambda r: r.get("lexical") and r.get("dense"), 60)
        assert seen["lexical_hits"][0] == ARTICLE  # found by its rare words, though B never ingested
        assert seen["cited"] and seen["cited"][0] == ARTICLE

        (news / ARTICLE).unlink()
        assert "removed" in ingest("--prune", str(news))
        gone = reader.until(lambda r: "lexical" in r and not r["lexical"] and not r["dense"], 60)
        assert ARTICLE not in gone["lexical_hits"]
    finally:
        reader.stop()

    # Nothing of the index lives in a data dir: only A's write lock (a file lock, one writer host).
    for data in (data_a, data_b):
        left = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()}
        assert not {p for p in left if p.endswith((".sqlite", ".sqlite3", ".bin"))}, left
    assert (
        components.index_path(make_settings(data_dir=data_a, index_name=index_name)) / "write.lock"
    ).exists()
