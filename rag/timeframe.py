"""A question's time words, read relative to "now": "this week", "last month", "in September
2023", "latest", आज, कल, पिछले महीने, सितंबर में, ताज़ा … -> a :class:`TimeFrame` of days.

News questions are about a time: "What did the minister announce this week?" asked today and
asked a month ago want different articles. A *window* ("this week", "in September 2023",
"yesterday") restricts retrieval to the articles dated inside it; a *recent* question ("latest",
"recently", ताज़ा) keeps every article up to now and ranks the newer ones higher. "Now" is the
moment the question is asked (``khabar ask --now``, an eval question's ``date``); no window ever
reaches past it, so an article dated after "now" is never an answer.

Hand-written, not ``dateparser``: its ``search_dates`` finds dates *inside* text, slowly and
imprecisely (it reads "may" and "march" as months and a bare "2" as a day), it does not turn
"this week" or "last month" into a range, and its Hindi coverage is month and day names, not
the relative phrases (पिछले महीने, इस हफ्ते, हाल ही में) questions use. The phrases below are a
closed, small set; a table of them is shorter than adapting a general parser, and each one is
tested. Days, not hours: publication dates are compared by their UTC day
(:func:`index.records.published_day`).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from index.records import SearchFilters

TimeKind = Literal["window", "recent"]

# Devanagari letters and signs count as word characters: Python's \b does not treat vowel signs
# (ा, ी) as letters, so "ताज़ा" would have no word boundary after it.
_B = r"(?<![\w\u0900-\u097f])"
_E = r"(?![\w\u0900-\u097f])"

_MONTHS_EN = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS_EN |= {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
_MONTHS_EN["sept"] = 9
# Spellings without the nukta (the text is matched with nuktas removed, see _normalise).
_MONTHS_HI = {
    "जनवरी": 1,
    "फरवरी": 2,
    "मार्च": 3,
    "अप्रैल": 4,
    "अप्रेल": 4,
    "मई": 5,
    "जून": 6,
    "जुलाई": 7,
    "अगस्त": 8,
    "सितंबर": 9,
    "सितम्बर": 9,
    "अक्टूबर": 10,
    "अक्तूबर": 10,
    "नवंबर": 11,
    "नवम्बर": 11,
    "दिसंबर": 12,
    "दिसम्बर": 12,
}
_WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
_WEEKDAYS |= {"सोमवार": 0, "मंगलवार": 1, "बुधवार": 2, "गुरुवार": 3, "बृहस्पतिवार": 3}
_WEEKDAYS |= {"शुक्रवार": 4, "शनिवार": 5, "रविवार": 6}

_MONTH_EN = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
_MONTH_HI = "|".join(sorted(_MONTHS_HI, key=len, reverse=True))
_MONTH = f"{_MONTH_EN}|{_MONTH_HI}"
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_YEAR = r"(?:19[5-9]\d|20\d\d)"

_HAFTA = r"(?:हफ्त[ेा]|हफ्तों|सप्ताह)"  # week (nuktas removed)
_MAHINA = r"(?:महीन[ेा]|महीनों|माह)"  # month
_SAAL = r"(?:साल|वर्ष|बरस)"  # year
_PICHLE = r"(?:पिछले|पिछला|पिछली|बीते|गत)"  # last
_IS = r"(?:इस|इसी)"  # this

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
_NUMBER_WORDS |= {"दो": 2, "तीन": 3, "चार": 4, "पांच": 5, "पाँच": 5, "सात": 7, "दस": 10}
_COUNT = r"(\d{1,3}|" + "|".join(_NUMBER_WORDS) + ")"
_DAYPART = "सुबह|शाम|रात"  # morning, evening, night
_UNIT = "day|week|month|दिन|हफ्त|सप्ताह|महीन"
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "दिन": 1, "हफ्त": 7, "सप्ताह": 7, "महीन": 30}


@dataclass(frozen=True)
class TimeFrame:
    """The days a question asks about. ``start`` None: from the beginning; ``end`` never after
    the day of "now". ``kind`` "window" restricts retrieval to articles dated in it; "recent"
    ranks newer articles higher (and, like every window, excludes those dated after now)."""

    start: date | None
    end: date
    kind: TimeKind
    phrase: str  # the words of the question it was read from
    now: date

    @property
    def empty(self) -> bool:
        """A window wholly after now ("in December" asked in September of the same year is read
        as last December, but "in 2030" cannot be): nothing can be dated inside it."""
        return self.start is not None and self.start > self.end

    def describe(self) -> str:
        """The frame in a reader's words: 'this week (2022-06-10 to 2022-06-16)'."""
        if self.kind == "recent":
            return f"{self.phrase} (newest first, up to {self.now.isoformat()})"
        if self.start == self.end:
            return f"{self.phrase} ({self.end.isoformat()})"
        start = self.start.isoformat() if self.start else "…"
        return f"{self.phrase} ({start} to {self.end.isoformat()})"

    def filters(self, base: SearchFilters | None, keep_undated: bool) -> SearchFilters:
        """``base`` (the user's filters) narrowed to this frame's days, the two ranges intersected.
        ``keep_undated``: articles without a date pass too, unless the user gave a date range."""
        base = base or SearchFilters()
        start = self.start.isoformat() if self.kind == "window" and self.start else ""
        end = self.end.isoformat()
        date_from = max(base.date_from, start) if base.date_from and start else base.date_from or start
        date_to = min(base.date_to, end) if base.date_to else end
        user_range = bool(base.date_from or base.date_to)
        return replace(
            base,
            date_from=date_from,
            date_to=date_to,
            undated=base.undated or (keep_undated and not user_range),
        )


def parse_now(value: str | date | datetime | None) -> datetime:
    """ "Now" as an aware UTC datetime: None is the current time; "2022-06-16", "2022/06/16" (the
    RealTimeQA files' spelling) and ISO datetimes are read; anything else is refused."""
    if value is None or value == "":
        return datetime.now(UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip().replace("/", "-")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'now' must be a date or an ISO date and time such as 2022-06-16 or "
            f"2022-06-16T09:00:00+05:30, not '{value}'."
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _normalise(text: str) -> str:
    """Lower case, nuktas removed (हफ़्ते = हफ्ते, ताज़ा = ताजा), Devanagari digits as ASCII."""
    text = unicodedata.normalize("NFD", text).replace("\u093c", "")
    text = unicodedata.normalize("NFC", text)
    text = text.translate(str.maketrans("०१२३४५६७८९", "0123456789"))
    return " ".join(text.lower().split())


def _month_before(year: int, month: int, now: date) -> int:
    """The year of the latest ``month`` that has begun by ``now`` ("in September" asked in
    March 2024 is September 2023)."""
    return year if (year, month) <= (now.year, now.month) else year - 1


def _month_window(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int | None, month: int, day: int, now: date) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        found = date(now.year, month, day)
        return found if found <= now else date(now.year - 1, month, day)
    except ValueError:  # 31 February
        return None


class TimeParser:
    """Reads time words; ``week_days``: how far back "this week" reaches (7: the 7 days up to
    and including today)."""

    def __init__(self, week_days: int = 7):
        self.week_days = week_days
        absolute = [
            # 14 September 2023 / 14 सितंबर 2023 / September 14, 2023 / on 14 September
            (rf"{_B}(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})(?:,?\s+({_YEAR}))?{_E}", self._dmy),
            (rf"{_B}({_MONTH_EN})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+({_YEAR}))?{_E}", self._mdy),
            (r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)", self._iso),
            # September 2023 / सितंबर 2023
            (rf"{_B}({_MONTH})[,]?\s+({_YEAR}){_E}", self._month_year),
            # in September / सितंबर में / सितंबर के … (English: after a preposition: "may", "march")
            (rf"{_B}(?:in|during|since|of|this|last)\s+({_MONTH_EN}){_E}", self._month),
            (rf"{_B}({_MONTH_HI}){_E}", self._month),
            # since 2005 / 2005 से / 2005 के बाद से: from then up to now
            (rf"{_B}since\s+({_YEAR}){_E}", self._since_year),
            (rf"{_B}({_YEAR})\s+(?:के\s+बाद\s+)?से{_E}", self._since_year),
            # in 2023 / 2023 में / साल 2023 / the 2022 (finals); not a decade ("the 1980s", "1980
            # के दशक")
            (rf"{_B}(?:in|during|of|the|year)\s+({_YEAR}){_E}(?!['’]?s{_E})", self._year),
            (rf"{_B}(?:{_SAAL}\s+)?({_YEAR})\s+(?:में|के|की|का){_E}(?!\s+दशक)", self._year),
        ]
        relative = [
            (rf"{_B}(?:today|tonight|this morning|this evening|आज)(?:\s+(?:{_DAYPART}))?{_E}", self._days(0)),
            (rf"{_B}(?:yesterday|last night|कल)(?:\s+(?:{_DAYPART}))?{_E}", self._days(1)),
            (rf"{_B}(?:day before yesterday|परसों){_E}", self._days(2)),
            (rf"{_B}(?:past|last|previous|पिछले|बीते)\s+{_COUNT}\s+({_UNIT})", self._count),
            (rf"{_B}(?:this|the past|this past)\s+week{_E}|{_B}{_IS}\s+{_HAFTA}{_E}", self._this_week),
            (rf"{_B}(?:last|previous)\s+week{_E}|{_B}{_PICHLE}\s+{_HAFTA}{_E}", self._last_week),
            (rf"{_B}this\s+month{_E}|{_B}{_IS}\s+{_MAHINA}{_E}", self._this_month),
            (rf"{_B}(?:last|previous)\s+month{_E}|{_B}{_PICHLE}\s+{_MAHINA}{_E}", self._last_month),
            (rf"{_B}this\s+year{_E}|{_B}{_IS}\s+{_SAAL}{_E}", self._this_year),
            (rf"{_B}(?:last|previous)\s+year{_E}|{_B}{_PICHLE}\s+{_SAAL}{_E}", self._last_year),
            (rf"{_B}(?:on\s+|last\s+|this\s+(?:past\s+)?)?({_WEEKDAY})(?:\s+को)?{_E}", self._weekday),
        ]
        recent = (
            rf"{_B}(?:latest|most recent|recent|recently|newest|lately|just now|these days|"
            rf"ताजा|ताजातरीन|नवीनतम|हाल\s+ही\s+में|हाल\s+में|हालिया|हाल\s+के|अभी\s+अभी|इन\s+दिनों){_E}"
        )
        self._patterns = [(re.compile(p), f) for p, f in absolute + relative]
        self._recent = re.compile(recent)

    def parse(self, question: str, now: datetime | date) -> TimeFrame | None:
        """The question's time frame relative to ``now``, or None when it has no time words.
        Absolute dates win over relative ones, and a window over "latest"."""
        today = now.date() if isinstance(now, datetime) else now
        text = _normalise(question)
        for pattern, read in self._patterns:
            for match in pattern.finditer(text):
                days = read(match, today)
                if days is not None:
                    start, end = days
                    return TimeFrame(start, min(end, today), "window", match.group(0), today)
        match = self._recent.search(text)
        if match:
            return TimeFrame(None, today, "recent", match.group(0), today)
        return None

    # --- absolute ---------------------------------------------------------------------------
    @staticmethod
    def _month_number(name: str) -> int:
        return _MONTHS_EN.get(name) or _MONTHS_HI[name]

    def _dmy(self, m: re.Match[str], now: date) -> tuple[date, date] | None:
        year = int(m.group(3)) if m.group(3) else None
        day = _day(year, self._month_number(m.group(2)), int(m.group(1)), now)
        return (day, day) if day else None

    def _mdy(self, m: re.Match[str], now: date) -> tuple[date, date] | None:
        year = int(m.group(3)) if m.group(3) else None
        day = _day(year, self._month_number(m.group(1)), int(m.group(2)), now)
        return (day, day) if day else None

    @staticmethod
    def _iso(m: re.Match[str], now: date) -> tuple[date, date] | None:
        day = _day(int(m.group(1)), int(m.group(2)), int(m.group(3)), now)
        return (day, day) if day else None

    def _month_year(self, m: re.Match[str], now: date) -> tuple[date, date]:
        return _month_window(int(m.group(2)), self._month_number(m.group(1)))

    def _month(self, m: re.Match[str], now: date) -> tuple[date, date]:
        month = self._month_number(m.group(1))
        return _month_window(_month_before(now.year, month, now), month)

    @staticmethod
    def _year(m: re.Match[str], now: date) -> tuple[date, date]:
        year = int(m.group(1))
        return date(year, 1, 1), date(year, 12, 31)

    @staticmethod
    def _since_year(m: re.Match[str], now: date) -> tuple[date, date]:
        return date(int(m.group(1)), 1, 1), now

    # --- relative ---------------------------------------------------------------------------
    @staticmethod
    def _days(back: int):
        """``back`` days ago up to today: a report of yesterday's events is often dated today.
        (कल is both yesterday and tomorrow; a question about the news means yesterday.)"""

        def read(m: re.Match[str], now: date) -> tuple[date, date]:
            return now - timedelta(days=back), now

        return read

    @staticmethod
    def _count(m: re.Match[str], now: date) -> tuple[date, date]:
        count = m.group(1)
        n = int(count) if count.isdigit() else _NUMBER_WORDS[count]
        days = max(1, n * _UNIT_DAYS[m.group(2)])
        return now - timedelta(days=days - 1), now

    def _this_week(self, m: re.Match[str], now: date) -> tuple[date, date]:
        return now - timedelta(days=self.week_days - 1), now

    def _last_week(self, m: re.Match[str], now: date) -> tuple[date, date]:
        end = now - timedelta(days=self.week_days)
        return end - timedelta(days=self.week_days - 1), end

    @staticmethod
    def _this_month(m: re.Match[str], now: date) -> tuple[date, date]:
        return now.replace(day=1), now

    @staticmethod
    def _last_month(m: re.Match[str], now: date) -> tuple[date, date]:
        last = now.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last

    @staticmethod
    def _this_year(m: re.Match[str], now: date) -> tuple[date, date]:
        return date(now.year, 1, 1), now

    @staticmethod
    def _last_year(m: re.Match[str], now: date) -> tuple[date, date]:
        return date(now.year - 1, 1, 1), date(now.year - 1, 12, 31)

    @staticmethod
    def _weekday(m: re.Match[str], now: date) -> tuple[date, date]:
        """The latest such day up to today, and the days since: reports follow events."""
        back = (now.weekday() - _WEEKDAYS[m.group(1)]) % 7
        return now - timedelta(days=back), now


UndatedPolicy = Literal["after", "keep", "drop"]


@dataclass(frozen=True)
class TimeRules:
    """How a question's time words shape its search: the parser, and what becomes of undated
    articles under a time frame ("after": kept, ranked after the dated articles in the frame;
    "keep": kept at their own rank; "drop": left out)."""

    parser: TimeParser
    undated: UndatedPolicy = "after"

    def frame(self, questions: tuple[str, ...], now: datetime) -> TimeFrame | None:
        """The first of ``questions`` (as asked, then as rewritten) that has time words."""
        for question in questions:
            frame = self.parser.parse(question, now)
            if frame is not None:
                return frame
        return None

    def filters(self, frame: TimeFrame | None, base: SearchFilters | None) -> SearchFilters | None:
        """``base`` narrowed to ``frame``; without one, ``base`` as it is: articles dated after now
        are then dropped after retrieval (:class:`rag.recency.TimeOrder`), since a Chroma where
        clause on every question costs more than the dense search itself (README, evaluation:
        time-awareness), and an article from the future is rare outside replayed evaluations."""
        if frame is None:
            return base
        return frame.filters(base, keep_undated=self.undated != "drop")
