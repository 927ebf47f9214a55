"""Read news files of every supported format into ``Article`` records.

One entry point, ``read_file``, dispatches on the file's suffix. A file that cannot be read at
all raises ``ReadError`` (with the reason and the fix); inside a file of many records (JSON,
JSONL, feeds) a bad record is reported in ``ReadResult.problems`` and the good records are kept.
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.records import Article
from ingest.clean import clean_text, clean_title
from ingest.errors import ReadError
from ingest.sources.dates import parse_date
from ingest.sources.discovery import FORMATS_HINT
from ingest.sources.html_pages import read_html
from ingest.sources.json_records import read_json, read_jsonl
from ingest.sources.plain_text import read_markdown, read_plain
from ingest.sources.source import ReadResult, Source
from ingest.sources.titles import derive_title

# --- reading one file ----------------------------------------------------------------------------


def read_file(path: Path, root: Path | None = None, detect_language: bool = True) -> ReadResult:
    """Read one file into articles.

    ``root`` is the folder named on the command line (default: the file's folder); a file's
    default article id is its path relative to it, so ids stay the same across runs and machines.
    ``detect_language`` says whether an article that does not state its language gets the detected
    one (the ``language_detection`` setting, which the caller passes) or is left without one.
    Raises ``ReadError`` when the file as a whole cannot be read. In a file of many records,
    each bad record becomes one of ``problems`` and the others are still read; a file whose
    every record is bad returns no articles and one problem per record.
    """
    path = Path(path)
    source = Source(path, _file_id(path, root if root is not None else path.parent), detect_language)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise source.error(f"'{path.suffix}' files are not supported", f"{FORMATS_HINT}; convert it")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise source.error(
            f"cannot read it ({exc.strerror or exc})", "check that it exists and that you may read it"
        ) from exc
    if not data.strip():
        raise source.error("the file is empty", "add the article text, or leave the file out")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise source.error(
            "it is a binary file, not text", f"{FORMATS_HINT} as text; convert it, or leave it out"
        )
    result = reader(source, data)
    if not result.articles and not result.problems:
        raise source.error("no articles found in it", "add at least one article, or leave the file out")
    return result


def _file_id(path: Path, root: Path) -> str:
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return absolute.as_posix()


# --- RSS and Atom feeds --------------------------------------------------------------------------


def _read_feed(source: Source, data: bytes) -> ReadResult:
    import feedparser  # only needed for feeds

    # Bytes, so feedparser honours the XML encoding declaration. Given bytes it never fetches.
    feed = feedparser.parse(data)
    broken = feed.get("bozo_exception") if feed.get("bozo") else None
    if not feed.entries:
        if broken is not None:
            raise source.error(
                f"it is not a well-formed feed ({broken})",
                "check the XML (it may be cut short); Khabar reads RSS 2.0 and Atom feeds",
            )
        raise source.error(
            "it has no feed entries (is it an RSS or Atom feed?)",
            f"{FORMATS_HINT}; .xml, .rss and .atom files are read as RSS or Atom feeds",
        )
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
                f"it is not a well-formed feed ({broken})", "check the XML (it may be cut short)"
            )
        result.problems.append(
            source.error(
                f"the feed is not well-formed XML ({broken}); the entries before the error were read",
                "check the XML (it may be cut short)",
            )
        )
    return result


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


_READERS: dict[str, Callable[[Source, bytes], ReadResult]] = {
    ".txt": read_plain,
    ".md": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".xml": _read_feed,
    ".rss": _read_feed,
    ".atom": _read_feed,
}
