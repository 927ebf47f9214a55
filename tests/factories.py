"""Hand-made retrieval results for tests that need no model and no store."""

from __future__ import annotations

from typing import Any

from index.records import Passage


def make_passage(article_id: str, text: str, rank: int, **fields: Any) -> Passage:
    """A passage of ``article_id`` covering ``text`` from offset 0; ``fields`` override the rest."""
    values: dict[str, Any] = {
        "chunk_id": f"{article_id}:{rank}",
        "article_id": article_id,
        "content_hash": article_id,
        "title": "",
        "source": "",
        "url": "",
        "published": "",
        "language": "en",
        "text": text,
        "start": 0,
        "end": len(text),
        "score": 0.9,
        "rank": rank,
        **fields,
    }
    return Passage(**values)
