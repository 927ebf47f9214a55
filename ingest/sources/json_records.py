"""JSON and JSON Lines files: many articles a file, one per record.

A bad record (not an object, no text, broken JSON on its line, an id used before, a field of the
wrong type) becomes one of the file's problems and the other records are still read. Field names
that other exports use for the same thing ("headline", "body", "link", "pubDate", ...) are
accepted beside the schema's.

Field types are checked, not coerced: a number or a list where the text should be is a broken
export, and turning it into text would store an article "12345" or "a, b" without a word. What
is accepted (``null`` counts as absent everywhere):

- the text, title, language, source and url: a string;
- the id: a string or an integer (exports number their records: 101 and "101" are one id);
- the category: a string or a list of strings (sections, tags), stored joined with ", ";
- the publication date: a string or an integer (Unix seconds, as many exports write dates).

Fields outside the schema are kept as the article's extras when they are a string, a number or a
boolean, and left out otherwise: they are nobody's answer, so they are not worth a refusal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from index.records import Article
from ingest.clean import clean_text, clean_title
from ingest.errors import ReadError
from ingest.sources.dates import normalise_date
from ingest.sources.source import ReadResult, Source
from ingest.sources.titles import derive_title

# The schema's field names first, then names other exports use for the same thing.
_FIELD_NAMES = {
    "id": ("id", "guid", "uid"),
    "title": ("title", "headline"),
    "text": ("text", "content", "body", "article"),
    "language": ("language", "lang"),
    "source": ("source", "publisher", "site"),
    "category": ("category", "section", "categories"),
    "url": ("url", "link"),
    "published": ("published", "date", "published_at", "pubDate"),
}
_KNOWN_KEYS = frozenset(name for names in _FIELD_NAMES.values() for name in names)
_TOO_DEEP = "its JSON is nested too deeply to read"
_TOO_DEEP_FIX = "an article is one flat object of fields; fix the export, or leave it out"
# What each field may hold besides a string (see the module docstring).
_INTEGER_ALLOWED = frozenset({"id", "published"})
_LIST_ALLOWED = frozenset({"category"})


def read_json(source: Source, data: bytes) -> ReadResult:
    try:
        value = json.loads(source.decode(data))
    except json.JSONDecodeError as exc:
        raise source.error(
            f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            "fix the JSON (one article object, or a list of them); for one article a line use .jsonl",
        ) from exc
    except RecursionError as exc:  # the parser recurses once per level: [[[[...]]]] thousands deep
        raise source.error(_TOO_DEEP, _TOO_DEEP_FIX) from exc
    if isinstance(value, dict) and isinstance(value.get("articles"), list):
        records = value["articles"]  # {"articles": [...]}, as some exports wrap them
    elif isinstance(value, dict):
        records = [value]
    elif isinstance(value, list):
        records = value
    else:
        raise source.error(
            f"it holds a JSON {type(value).__name__}, not an article object or a list of them",
            'write {"id": ..., "title": ..., "text": ...} or a list of such objects',
        )
    numbered = ((f"item {n}", record) for n, record in enumerate(records, 1))
    return _read_records(source, numbered)


def read_jsonl(source: Source, data: bytes) -> ReadResult:
    # Split on "\n" only: str.splitlines would also split on U+2028 and other characters that
    # JSON allows unescaped inside strings.
    lines = source.decode(data).split("\n")
    return _read_records(source, _jsonl_records(source, lines))


def _jsonl_records(source: Source, lines: list[str]) -> Iterator[tuple[str, Any]]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield f"line {n}", json.loads(line)
        except json.JSONDecodeError as exc:
            yield (
                f"line {n}",
                source.error(
                    f"not valid JSON ({exc.msg}, column {exc.colno})",
                    "fix or remove the line: each line must be one JSON object",
                    f"line {n}",
                ),
            )
        except RecursionError:
            yield f"line {n}", source.error(_TOO_DEEP, _TOO_DEEP_FIX, f"line {n}")


def _read_records(source: Source, records: Iterable[tuple[str, Any]]) -> ReadResult:
    result = ReadResult()
    first_seen: dict[str, str] = {}
    for label, record in records:
        try:
            if isinstance(record, ReadError):
                raise record
            article = _record_article(source, label, record)
            if article.id in first_seen:
                raise source.error(
                    f"duplicate id {article.id!r} (first used at {first_seen[article.id]})",
                    "give every record its own id; the first record was kept",
                    label,
                )
        except ReadError as problem:
            result.problems.append(problem)
            continue
        first_seen[article.id] = label
        result.articles.append(article)
    return result


def _record_article(source: Source, label: str, record: Any) -> Article:
    if not isinstance(record, dict):
        raise source.error(
            f"a JSON {type(record).__name__}, not an article object", "make it an object", label
        )

    _check_types(source, label, record)

    def get(name: str) -> str:
        for key in _FIELD_NAMES[name]:
            value = _as_text(record.get(key))
            if value:
                return value
        return ""

    text = clean_text(get("text"))
    if not text:
        raise source.error("the text is empty", 'put the article text in "text", or remove the record', label)
    extra = {str(k): _as_text(v) for k, v in record.items() if k not in _KNOWN_KEYS and _is_scalar(v)}
    return source.article(
        id=get("id").strip() or f"{source.file_id}#{label.split()[-1]}",
        title=clean_title(get("title")) or derive_title(text),
        text=text,
        language=get("language"),
        source=clean_title(get("source")),
        category=clean_title(get("category")),
        url=get("url").strip(),
        published=normalise_date(get("published")),
        extra={k: v for k, v in extra.items() if v},
    )


def _check_types(source: Source, label: str, record: dict[str, Any]) -> None:
    """Refuse a record whose schema field (under any of its names) holds a value of the wrong type."""
    for name, keys in _FIELD_NAMES.items():
        for key in keys:
            value = record.get(key)
            if value is None or isinstance(value, str):
                continue
            if name in _INTEGER_ALLOWED and isinstance(value, int) and not isinstance(value, bool):
                continue
            if name in _LIST_ALLOWED and isinstance(value, list):
                if all(isinstance(item, str) or item is None for item in value):
                    continue
                wrong = next(item for item in value if not (isinstance(item, str) or item is None))
                raise source.error(
                    f'"{key}" is a list holding {_json_kind(wrong)}, not only strings',
                    f'write "{key}" as a string or a list of strings',
                    label,
                )
            allowed = "a string" + (" or an integer" if name in _INTEGER_ALLOWED else "")
            allowed += " or a list of strings" if name in _LIST_ALLOWED else ""
            raise source.error(
                f'"{key}" is {_json_kind(value)}, not {allowed}',
                f'write "{key}" as {allowed}'
                + (" (the whole article text in one string)" if name == "text" else ""),
                label,
            )


def _json_kind(value: Any) -> str:
    """A JSON value's kind as its writer would name it, with a short value where that helps."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _as_text(value: Any) -> str:
    """A checked field's value as text: a list of strings (categories) joined, a number (an id,
    Unix seconds) written out; the extra fields of other tools carry numbers and booleans too."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_as_text(item) for item in value if item is not None)
    return str(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)
