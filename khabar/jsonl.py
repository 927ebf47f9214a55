"""Append-only JSON-lines files beside the index: chat feedback, and what verification rejected."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """One JSON object a line; the lock keeps concurrent writers of this process from interleaving."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line)
