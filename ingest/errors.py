"""The one kind of failure ingestion reports per file or record instead of stopping."""

from __future__ import annotations


class ReadError(Exception):
    """A file (or one record in it) that cannot be ingested, with the reason and the fix."""

    def __init__(self, path: str, reason: str, fix: str, record: str | None = None):
        self.path, self.reason, self.fix, self.record = path, reason, fix, record
        where = f"{path} ({record})" if record else path
        super().__init__(f"{where}: {reason}. {fix}")
