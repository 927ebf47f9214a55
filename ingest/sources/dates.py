"""Publication dates: the spellings news files use (ISO, RSS's RFC 2822, Unix seconds, spelled-out
dates), turned into ISO 8601 in UTC so that dates compare and filter.

A timestamp is converted to UTC ("2023-09-14T10:00:00+05:30" -> "2023-09-14T04:30:00+00:00"), so
that the day every filter and every "this week" reads (:func:`index.records.published_day`, the
first ten characters) is the same day for all sources; a timestamp without a zone is taken as
UTC. A plain day stays a day ("2023-09-14"): it has no hour to convert. A numeric day/month order
such as "09/10/2023" is ambiguous, so it is kept as given, not guessed, and counts as undated.
An article without a date is stored with "" and never given today's date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

_DATE_FORMATS = ("%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")


def normalise_date(value: str) -> str:
    """ISO 8601 in UTC ("2023-09-14" or "2023-09-14T04:30:00+00:00") when the value is a date that
    reads unambiguously, else the value as given (stripped): a date we cannot read is still worth
    showing, but filters treat it as undated."""
    value = str(value).strip()
    return parse_date(value) or value


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def parse_date(value: str) -> str | None:
    """ISO form (timestamps in UTC) of ISO, RFC 2822 (RSS), Unix-seconds and spelled-out dates;
    None for anything else, including numeric day/month orders such as "09/10/2023", which are
    ambiguous."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{9,10}", value):  # Unix seconds
        return _utc(datetime.fromtimestamp(int(value), UTC))
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    try:
        return _utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None
