"""Plain text and Markdown files: one article each, the whole file.

Markdown is stripped to its text, not rendered, and a YAML front-matter block (Hugo, Jekyll
exports) is read for the title, date and other fields rather than left in the text, where its
first line, "---", would become the title. Without one, a date line among the first lines
("Published: 2023-09-14", "प्रकाशित: 14 September 2023", or a line that is only a date) gives the
article its date and is taken out of the text; a file with neither is undated.
"""

from __future__ import annotations

import re

from ingest.clean import clean_text, clean_title, strip_markdown
from ingest.sources.dates import normalise_date, parse_date
from ingest.sources.source import ReadResult, Source
from ingest.sources.titles import title_and_body

# "Published: …", "Date: …", "प्रकाशित: …", "दिनांक: …", "तारीख: …" (the label is optional).
_DATE_LINE = re.compile(
    r"^(?:(?:published|updated|date|dated|प्रकाशित|प्रकाशन|दिनांक|तारीख|तिथि)\s*(?:on)?\s*[:：\-–]?\s*)?(.+?)\s*$",
    re.IGNORECASE,
)
_DATE_LINES = 3  # a date line is looked for among this many first lines

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
    published = meta.get("published", meta.get("date", ""))
    if not published:
        text, published = _date_line(text)
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
                published=normalise_date(published),
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


def _date_line(text: str) -> tuple[str, str]:
    """The text without its date line, and the date (ISO, UTC) that line gives; ("text", "") when
    none of the first lines is a date. Only a line that is a date as a whole (after an optional
    label) counts, so a first sentence that merely mentions a date stays text."""
    lines = text.split("\n")
    for n, line in enumerate(lines[:_DATE_LINES]):
        match = _DATE_LINE.match(line.strip())
        iso = parse_date(match.group(1)) if match else None
        if iso:
            rest = "\n".join(lines[:n] + lines[n + 1 :]).strip()
            if rest:
                return rest, iso
    return text, ""
