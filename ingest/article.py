"""The record every reader produces and every later stage consumes."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field


@dataclass
class Article:
    """One news article, cleaned, before chunking.

    ``id`` is the stable name of the article: the record's own id when the source has one
    (JSONL, feed entry guid), otherwise derived from the file path. Its content may change;
    ``content_hash`` says whether it did.
    """

    id: str
    title: str
    text: str
    language: str = ""
    source: str = ""
    category: str = ""
    url: str = ""
    published: str = ""  # ISO 8601 date (YYYY-MM-DD or full timestamp) or ""
    path: str = ""  # the file it was read from
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Identity of the stored content: the same text under two names is stored once."""
        key = f"{self.title}\n\n{self.text}".encode()
        return hashlib.sha256(key).hexdigest()

    def to_dict(self) -> dict:
        return asdict(self)


class ReadError(Exception):
    """A file (or one record in it) that cannot be ingested, with the reason and the fix."""

    def __init__(self, path: str, reason: str, fix: str, record: str | None = None):
        self.path, self.reason, self.fix, self.record = path, reason, fix, record
        where = f"{path} ({record})" if record else path
        super().__init__(f"{where}: {reason}. {fix}")
