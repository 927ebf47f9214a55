"""RSS and Atom feeds: one article per entry, parsed by feedparser (imported only for feeds).

Each entry's text is the longer of its full content and its summary; a bad entry, or a feed cut
short, becomes one of the file's problems while the entries that could be read are kept.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from index.records import Article
from ingest.clean import clean_text, clean_title
from ingest.errors import ReadError
from ingest.sources.dates import parse_date
from ingest.sources.discovery import FORMATS_HINT
from ingest.sources.source import ReadResult, Source
from ingest.sources.titles import derive_title


@dataclass
class FeedEntry:
    """One entry of a followed feed, as ``ingest.web.refresh`` needs it: where its page is, how to
    recognise it again, and its own text (the fallback when the page cannot be fetched)."""

    key: str  # the entry's guid/id, else its link: what it is known by from one refresh to the next
    link: str
    stamp: str  # the entry's updated (else published) date as written: it changes when the entry does
    published: str  # its publication date, ISO 8601 when it reads so
    summary: Article | None  # the entry's own text as an article; None when it has none
    title: str = ""


@dataclass
class ParsedFeed:
    title: str
    entries: list[FeedEntry] = field(default_factory=list)


def feed_entries(source: Source, data: bytes) -> ParsedFeed:
    """The entries of a fetched feed, each with its summary article when it has text (an entry
    that is only a title and a link is still an entry: its page holds the article). Raises
    ``ReadError`` when ``data`` is not a feed."""
    feed = _parse(source, data)
    feed_title = clean_title(feed.feed.get("title", ""))
    feed_language = feed.feed.get("language", "")
    parsed = ParsedFeed(feed_title)
    seen: set[str] = set()
    for n, entry in enumerate(feed.entries, 1):
        link = (entry.get("link") or "").strip()
        key = (entry.get("id") or link).strip()
        if not key or key in seen:
            continue
        seen.add(key)
        try:
            summary: Article | None = _entry_article(source, n, entry, feed_title, feed_language)
        except ReadError:
            summary = None
        # dict.get: feedparser's own get maps a missing "updated" to "published", with a warning.
        stamp = (dict.get(entry, "updated") or dict.get(entry, "published") or "").strip()
        title = clean_title(entry.get("title", ""))
        parsed.entries.append(FeedEntry(key, link, stamp, _entry_date(entry), summary, title))
    return parsed


def _parse(source: Source, data: bytes) -> Any:
    """feedparser's reading of ``data``, with at least one entry (else ``ReadError``)."""
    import feedparser  # only needed for feeds

    # Bytes, so feedparser honours the XML encoding declaration. Given bytes it never fetches.
    feed = feedparser.parse(data)
    broken = feed.get("bozo_exception") if feed.get("bozo") else None
    if not feed.entries:
        if broken is not None:
            raise source.error(
                f"it is not a well-formed feed ({_where(broken)})",
                "check the XML (it may be cut short); Khabar reads RSS 2.0 and Atom feeds",
            )
        raise source.error(
            "it has no feed entries (is it an RSS or Atom feed?)",
            f"{FORMATS_HINT}; .xml, .rss and .atom files are read as RSS or Atom feeds",
        )
    return feed


def read_feed(source: Source, data: bytes) -> ReadResult:
    feed = _parse(source, data)
    broken = feed.get("bozo_exception") if feed.get("bozo") else None
    feed_title = clean_title(feed.feed.get("title", ""))
    feed_language = feed.feed.get("language", "")
    result = ReadResult()
    first_seen: dict[str, int] = {}
    for n, entry in enumerate(feed.entries, 1):
        try:
            article = _entry_article(source, n, entry, feed_title, feed_language)
            if article.id in first_seen:
                raise source.error(
                    f"duplicate id {article.id!r} (first used by entry {first_seen[article.id]})",
                    "give every entry its own guid or id; the first entry was kept",
                    f"entry {n}",
                )
        except ReadError as problem:
            result.problems.append(problem)
            continue
        first_seen[article.id] = n
        result.articles.append(article)
    if broken is not None:
        if not result.articles:
            raise source.error(
                f"it is not a well-formed feed ({_where(broken)})", "check the XML (it may be cut short)"
            )
        # feedparser falls back to a lenient parse after an XML error, so entries after the
        # error may be there too (a broken DOCTYPE on line 1 still yields every entry): say how
        # many were recovered, not that they came before the error.
        count = len(result.articles)
        result.problems.append(
            source.error(
                f"the feed is not well-formed XML ({_where(broken)}); a lenient parse recovered "
                + ("1 entry, which was read" if count == 1 else f"{count} entries, which were read"),
                "check the XML (it may be cut short) and that no entry is missing or truncated",
            )
        )
    return result


def _where(error: BaseException) -> str:
    # SAX errors know their line; their str() repeats it as "<unknown>:LINE:COL:".
    if callable(getattr(error, "getLineNumber", None)) and callable(getattr(error, "getMessage", None)):
        return f"line {error.getLineNumber()}: {error.getMessage()}"
    return str(error)


def _entry_article(source: Source, n: int, entry: Any, feed_title: str, feed_language: str) -> Article:
    # The longest of the full content and the summary: many feeds put the whole story in
    # <content:encoded> and a teaser in <description>, some the other way round.
    bodies = [part.get("value", "") for part in entry.get("content") or []]
    bodies.append(entry.get("summary", ""))
    text = max((clean_text(body) for body in bodies), key=len)
    if not text:
        raise source.error(
            "the entry has no text", "the feed entry needs a description or content", f"entry {n}"
        )
    tags = [tag.get("term") or "" for tag in entry.get("tags") or []]
    return source.article(
        id=entry.get("id") or entry.get("link") or f"{source.file_id}#{n}",
        title=clean_title(entry.get("title", "")) or derive_title(text),
        text=text,
        language=entry.get("language") or feed_language,
        source=feed_title,
        category=clean_title(", ".join(tag for tag in tags if tag)),
        url=entry.get("link", ""),
        published=_entry_date(entry),
    )


def _entry_date(entry: Any) -> str:
    """The entry's own date string (keeps its time zone), else feedparser's parsed UTC time."""
    for key in ("published", "updated"):
        raw = entry.get(key) or ""
        iso = parse_date(raw)
        if iso:
            return iso
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
        if raw.strip():
            return raw.strip()
    return ""
