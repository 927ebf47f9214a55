"""Several processes opening one new embedded Chroma store at the same moment all get it (without
the open lock in index/chroma.py, eight of them at once failed most runs: "table collections
already exists")."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OPEN = """
import sys, time
from pathlib import Path
from index.chroma import ChromaConfig, chroma_client
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # all processes open together
chroma_client(ChromaConfig("embedded", Path(sys.argv[1]))).get_or_create_collection("news")
"""


def test_processes_opening_a_new_store_at_once_all_open_it(tmp_path):
    store = tmp_path / "chroma"
    start = time.time() + 4  # after every interpreter has imported Chroma
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, str(store), str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 8, [err for _, err in results]
