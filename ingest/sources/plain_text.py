"""Plain text and Markdown files: one article each, the whole file.

Markdown is stripped to its text, not rendered, and a YAML front-matter block (Hugo, Jekyll
exports) is read for the title, date and other fields rather than left in the text, where its
first line, "---", would become the title.
"""

from __future__ import annotations

import re

from ingest.clean import clean_text, clean_title, strip_markdown
from ingest.sources.dates import normalise_date
from ingest.sources.source import ReadResult, Source
from ingest.sources.titles import title_and_body

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def read_plain(source: Source, data: bytes, markdown: bool = False) -> ReadResult:
    raw = source.decode(data)
    meta: dict[str, str] = {}
    if markdown:
        raw, meta = _front_matter(raw)
        raw = strip_markdown(raw)
    text = clean_text(raw)
    if not text:
        raise source.error("no text left after removing markup", "add the article text")
    title, text = title_and_body(clean_title(meta.get("title", "")), text)
    return ReadResult(
        [
            source.article(
                id=source.file_id,
                title=title,
                text=text,
                language=meta.get("language", meta.get("lang", "")),
                source=clean_title(meta.get("source", "")),
                category=clean_title(meta.get("category", "")),
                url=meta.get("url", "").strip(),
                published=normalise_date(meta.get("published", meta.get("date", ""))),
            )
        ]
    )


def read_markdown(source: Source, data: bytes) -> ReadResult:
    return read_plain(source, data, markdown=True)


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Split off a YAML front-matter block (Hugo, Jekyll exports) and read its flat ``key: value``
    lines; without this its first line, "---", would become the title."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    meta = {}
    for line in match.group(1).split("\n"):
        key, colon, value = line.partition(":")
        if colon and key.strip() and not key.startswith((" ", "\t", "-")):
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return text[match.end() :], meta
