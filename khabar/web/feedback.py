"""Thumbs up/down on answers, kept as JSON lines beside the index for later evaluation."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FEEDBACK_FILE = "feedback.jsonl"
_lock = threading.Lock()


def vote_from_like(liked: object) -> int:
    """Gradio sends True (like), False (dislike) or "" when a thumb is clicked off again."""
    if liked is True:
        return 1
    if liked is False:
        return -1
    return 0


def feedback_record(
    question: str,
    answer: dict[str, Any],
    vote: int,
    index_name: str,
    when: datetime | None = None,
) -> dict[str, Any]:
    """What is kept: enough to find the cited sentences again, not the whole passages."""
    return {
        "timestamp": (when or datetime.now(UTC)).isoformat(timespec="seconds"),
        "index": index_name,
        "question": question,
        "answer": answer.get("text", ""),
        "declined": bool(answer.get("declined", False)),
        "citations": [
            {
                "marker": c.get("marker"),
                "article_id": c.get("article_id"),
                "chunk_id": c.get("chunk_id"),
                "sentence": c.get("sentence"),
                "span": [c.get("start"), c.get("end")],
            }
            for c in answer.get("citations", [])
        ],
        "vote": vote,
    }


def append_feedback(path: Path, record: dict[str, Any]) -> None:
    """One JSON object a line; the lock keeps concurrent votes from interleaving."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line)
