"""Publication dates: the spellings news files use (ISO, RSS's RFC 2822, Unix seconds, spelled-out
dates), turned into ISO 8601 so that dates compare and filter.

A numeric day/month order such as "09/10/2023" is ambiguous, so it is kept as given, not guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

_DATE_FORMATS = ("%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")


def normalise_date(value: str) -> str:
    """ISO 8601 ("2023-09-14" or "2023-09-14T10:00:00+05:30") when the value is a date that reads
    unambiguously, else the value as given (stripped): a date we cannot read is still worth showing.
    """
    value = str(value).strip()
    return parse_date(value) or value


def parse_date(value: str) -> str | None:
    """ISO form of ISO, RFC 2822 (RSS), Unix-seconds and spelled-out dates; None for anything else,
    including numeric day/month orders such as "09/10/2023", which are ambiguous."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{9,10}", value):  # Unix seconds
        return datetime.fromtimestamp(int(value), UTC).isoformat()
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(value).isoformat()
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None
