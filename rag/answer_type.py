"""What kind of thing a question asks for, and whether a sentence holds one.

"How many …", "कब …", "किस वर्ष …" are answered by sentences that contain a number or a date; a
sentence that only restates the question's topic does not answer it, however close its vector.
The question's expected type comes from its wording (one table of cue patterns per language);
a sentence supports it when it holds something of that type that the question does not already
contain (the question's own "1998" is no answer to "what happened after 1998?").

Only types the text itself shows reliably are detected: numbers (any script's digits, number
words) and dates (years, months, weekdays, centuries). Persons and places need names, which the
cross-script name bridge finds; a "who" question is marked, and the scorer may weigh names.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from index.bridge import numbers


class AnswerType(StrEnum):
    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"


# First match wins: "what year" is a date before "what" is anything else; "how many years" a
# number. Hindi question words inflect (कितना/कितने/कितनी); both spellings of कहाँ/कहां.
_QUESTION_CUES: list[tuple[AnswerType, str]] = [
    (
        AnswerType.NUMBER,
        r"\bhow (many|much|long|far|old|big|large|tall|high)\b|\bwhat (percentage|percent|number|amount)\b",
    ),
    (
        AnswerType.DATE,
        r"\bwhen\b|\b(what|which) (year|date|day|month|century|decade|time)\b|\bin what year\b",
    ),
    (
        AnswerType.PERSON,
        r"\bwho(m|se)?\b|"
        r"\b(which|what) (person|man|woman|leader|president|minister|official|team|player|company)\b",
    ),
    (AnswerType.PLACE, r"\bwhere\b|\b(which|what) (city|country|state|place|region|town|river|continent)\b"),
    (AnswerType.NUMBER, r"कितन[ाेी]"),
    (AnswerType.DATE, r"\bकब\b|किस (वर्ष|साल|तारीख|तिथि|दिन|महीने|सदी|शताब्दी|समय)|किन (वर्षों|सालों)"),
    (AnswerType.PERSON, r"\bकौन\b|किसने|किसको|किसे|किसका|किसकी|किसके|किन्होंने"),
    (AnswerType.PLACE, r"कहा[ँं]|किस (देश|शहर|राज्य|जगह|स्थान|क्षेत्र|नदी)"),
]
_CUES = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _QUESTION_CUES]

_DATE_WORDS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|century|decade)\b|"
    r"(?<!\w)(जनवरी|फ़रवरी|फरवरी|मार्च|अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|सितम्बर|अक्टूबर|अक्तूबर|नवंबर|नवम्बर|"
    r"दिसंबर|दिसम्बर|सोमवार|मंगलवार|बुधवार|गुरुवार|शुक्रवार|शनिवार|रविवार|सदी|शताब्दी|दशक)(?!\w)",
    re.IGNORECASE,
)


def expected_type(question: str) -> AnswerType:
    """The kind of answer the question's wording asks for (OTHER when no cue says)."""
    for kind, pattern in _CUES:
        if pattern.search(question):
            return kind
    return AnswerType.OTHER


@lru_cache(maxsize=65536)
def _typed_items(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(numbers, dates) of a text: numbers in any script or in words (:func:`index.bridge.numbers`);
    years among them, months, weekdays, centuries."""
    nums = frozenset(numbers(text))
    years = {n for n in nums if n.isdigit() and 1000 <= int(n) <= 2099}
    dates = years | {m.group().casefold() for m in _DATE_WORDS.finditer(text)}
    return nums, frozenset(dates)


def supports(kind: AnswerType, sentence: str, question: str) -> bool:
    """Whether the sentence holds a number or date (as ``kind`` asks) that the question lacks.

    A date counts as a number too ("how many years" is often answered with a span of years),
    and numbers as dates ("when" is often answered with a year). Other kinds: never (the name
    bridge decides those).
    """
    if kind not in (AnswerType.NUMBER, AnswerType.DATE):
        return False
    s_nums, s_dates = _typed_items(sentence)
    q_nums, q_dates = _typed_items(question)
    if kind is AnswerType.DATE:
        return bool((s_dates - q_dates) or (s_nums - q_nums))
    return bool(s_nums - q_nums)
