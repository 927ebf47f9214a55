"""Thumbs up/down on answers, kept as JSON lines beside the index for later evaluation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from khabar.jsonl import append_jsonl

FEEDBACK_FILE = "feedback.jsonl"


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
    """One JSON object a line (concurrent votes never interleave)."""
    append_jsonl(path, record)
