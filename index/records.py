"""The records every floor shares: articles, their chunks and sentences, retrieved passages,
and the search filters, with the one date rule they all use.

They live at the bottom because ``ingest/`` writes them and ``rag/`` reads them back: both sides
must agree on one shape, and neither may import the other."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date


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
        """Identity of the stored content: the same text under two names is stored once.

        Kept with the title and text it was computed from (outside the dataclass fields, so
        equality and ``to_dict`` are unchanged): chunk and sentence ids are built from it per
        chunk and per sentence, and hashing a long article for each of them was quadratic.
        Comparing with the kept title and text is an identity check while they are unchanged.
        """
        source = (self.title, self.text)
        kept = self.__dict__.get("_content_hash")
        if kept is None or kept[0] != source:
            digest = hashlib.sha256(f"{self.title}\n\n{self.text}".encode()).hexdigest()
            kept = self.__dict__["_content_hash"] = (source, digest)
        return kept[1]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sentence:
    start: int  # character offsets into Article.text
    end: int
    text: str


@dataclass
class Chunk:
    id: str
    index: int
    start: int
    end: int
    text: str
    sentences: list[Sentence] = field(default_factory=list)


@dataclass
class Passage:
    """A retrieved chunk with its article's metadata and its score."""

    chunk_id: str
    article_id: str
    content_hash: str
    title: str
    source: str
    url: str
    published: str
    language: str
    text: str
    start: int  # character span of the chunk in its article
    end: int
    score: float  # cosine similarity to the question (dense) or fused score
    rank: int = 0
    # BM25's support for this passage in [0, 1]: its BM25 score over the question's best BM25
    # score, times BM25's share of the fusion for this question (0 when BM25 did not find it).
    lexical: float = 0.0
    also_in: list[str] = field(default_factory=list)  # near-duplicate articles folded into this one
    text_from: str = ""  # "feed summary" when the stored text is a feed entry's, not its page's

    @classmethod
    def from_metadata(cls, chunk_id: str, metadata: dict, text: str, score: float, rank: int) -> Passage:
        """A passage from the chunk metadata the writer stores (both stores keep the same keys)."""
        m = metadata
        return cls(
            chunk_id=chunk_id,
            article_id=str(m.get("article_id", "")),
            content_hash=str(m.get("content_hash", "")),
            title=str(m.get("title", "")),
            source=str(m.get("source", "")),
            url=str(m.get("url", "")),
            published=str(m.get("published", "")),
            language=str(m.get("language", "")),
            text=text,
            start=int(m.get("start", 0)),
            end=int(m.get("end", 0)),
            score=score,
            rank=rank,
            text_from=str(m.get("text_from") or ""),
        )


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def published_day(published: str) -> int:
    """YYYYMMDD as an integer (0 when unknown): Chroma filters ranges on numbers only."""
    digits = published[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def shown_date(published: str) -> str:
    """A citation's date for a reader: the day, with the UTC time when there is one
    ("2023-09-14 04:30 UTC"), "undated" for an article without a date, and a value that does not
    read as a date as it was given."""
    published = (published or "").strip()
    if not published:
        return "undated"
    if not published_day(published):
        return published
    day, _, clock = published.partition("T")
    return f"{day} {clock[:5]} UTC" if clock else day


def parse_day(text: str, label: str) -> str:
    """A YYYY-MM-DD date, or "" when empty; anything else is refused with a reason naming ``label``."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        if not _DAY.match(text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"The {label} date must look like 2023-09-14 (YYYY-MM-DD), not '{text}'.") from None
    return text


@dataclass
class SearchFilters:
    """Narrow retrieval (not just the display) to languages, sources and a date range."""

    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    date_from: str = ""  # YYYY-MM-DD, inclusive
    date_to: str = ""
    # Undated articles pass the date range too: a question's time words ("this week") narrow the
    # dated articles without hiding the undated ones, when the undated policy keeps them. A range
    # the user typed (--from/--to) leaves it False: undated articles are outside it.
    undated: bool = False

    def is_empty(self) -> bool:
        return not (self.languages or self.sources or self.date_from or self.date_to)

    @classmethod
    def parse(
        cls,
        languages: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> SearchFilters:
        """Filters from what a user typed (CLI options, web fields): dates are checked, so a
        malformed one is refused with the reason instead of being silently ignored."""
        start = parse_day(date_from or "", "'from'")
        end = parse_day(date_to or "", "'to'")
        if start and end and start > end:
            raise ValueError(f"The 'from' date {start} is after the 'to' date {end}.")
        return cls(list(languages or []), list(sources or []), start, end)


@dataclass
class CollectionStats:
    """What a collection holds, for the filters a user is offered and the header they see."""

    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    first_date: str = ""  # YYYY-MM-DD of the earliest dated article ("" when none is dated)
    last_date: str = ""
    articles: int = 0  # distinct stored contents
    chunks: int = 0
