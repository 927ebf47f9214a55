"""Time words read relative to "now" (rag/timeframe.py), and the filters and order they give
(index/filters.py, rag/recency.py): plain unit tests, no model."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from index.filters import matches, to_metadata_filters
from index.records import Passage, SearchFilters, shown_date
from rag.query import Query
from rag.recency import TimeOrder, time_note
from rag.timeframe import TimeParser, TimeRules, parse_now

NOW = date(2022, 6, 16)  # a Thursday
parser = TimeParser(week_days=7)


def frame(question: str, now: date = NOW):
    return parser.parse(question, now)


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("What happened this week?", date(2022, 6, 10), NOW),
        ("इस हफ़्ते संसद में क्या हुआ?", date(2022, 6, 10), NOW),  # with the nukta
        ("इस हफ्ते क्या हुआ?", date(2022, 6, 10), NOW),  # without it
        ("इस सप्ताह क्या हुआ?", date(2022, 6, 10), NOW),
        ("Who won last week?", date(2022, 6, 3), date(2022, 6, 9)),
        ("पिछले हफ्ते कौन जीता?", date(2022, 6, 3), date(2022, 6, 9)),
        ("What is in the news today?", NOW, NOW),
        ("आज की सबसे बड़ी खबर क्या है?", NOW, NOW),
        # कल is yesterday (a news question asks about the past); reports of it may be dated today
        ("कल दिल्ली में क्या हुआ?", date(2022, 6, 15), NOW),
        ("What happened yesterday?", date(2022, 6, 15), NOW),
        ("परसों क्या हुआ?", date(2022, 6, 14), NOW),
        ("What did the bank do last month?", date(2022, 5, 1), date(2022, 5, 31)),
        ("पिछले महीने बाढ़ कहाँ आई?", date(2022, 5, 1), date(2022, 5, 31)),
        ("इस महीने क्या हुआ?", date(2022, 6, 1), NOW),
        ("What changed this year?", date(2022, 1, 1), NOW),
        ("पिछले साल क्या हुआ?", date(2021, 1, 1), date(2021, 12, 31)),
        ("What happened in September 2021?", date(2021, 9, 1), date(2021, 9, 30)),
        ("सितंबर 2021 में क्या हुआ?", date(2021, 9, 1), date(2021, 9, 30)),
        # a month without a year: the latest one that has begun by now
        ("सितंबर में क्या हुआ?", date(2021, 9, 1), date(2021, 9, 30)),
        ("What happened in June?", date(2022, 6, 1), NOW),  # the current month stops at now
        ("What happened on 14 September?", date(2021, 9, 14), date(2021, 9, 14)),
        ("१४ सितंबर २०२१ को क्या हुआ?", date(2021, 9, 14), date(2021, 9, 14)),  # Devanagari digits
        ("What happened on 2022-06-01?", date(2022, 6, 1), date(2022, 6, 1)),
        ("Who won the 2021 final?", date(2021, 1, 1), date(2021, 12, 31)),
        ("What has changed since 2019?", date(2019, 1, 1), NOW),
        ("2019 के बाद से क्या बदला?", date(2019, 1, 1), NOW),
        ("What did the NFL star announce on Tuesday?", date(2022, 6, 14), NOW),
        ("What happened in the past 3 days?", date(2022, 6, 14), NOW),
        ("पिछले 2 दिनों में क्या हुआ?", date(2022, 6, 15), NOW),
    ],
)
def test_windows(question, start, end):
    found = frame(question)
    assert found is not None and found.kind == "window"
    assert (found.start, found.end) == (start, end)


@pytest.mark.parametrize(
    "question",
    ["What is the latest on the floods?", "Who recently resigned?", "ताज़ा ख़बर क्या है?", "हाल ही में कौन जीता?"],
)
def test_recent(question):
    found = frame(question)
    assert found is not None and (found.kind, found.start, found.end) == ("recent", None, NOW)


@pytest.mark.parametrize(
    "question",
    [
        "Where in the US is it illegal to pump your own gas?",
        "What may happen to prices?",  # "may" the verb, not the month
        "How many of the 1200 workers left?",
        "कलाकार ने क्या कहा?",  # कल inside a word
        "What was the play of the 1980's?",  # a decade, not the year 1980
        "1970 के दशक में कौन सा नाटक था?",
    ],
)
def test_no_time_words(question):
    assert frame(question) is None


def test_month_boundaries():
    # "last month" in March of a leap year is all of February; in January, last December
    assert (frame("last month", date(2024, 3, 5)).start, frame("last month", date(2024, 3, 5)).end) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    january = frame("पिछले महीने", date(2023, 1, 10))
    assert (january.start, january.end) == (date(2022, 12, 1), date(2022, 12, 31))
    # "this week" across a month boundary
    early = frame("this week", date(2023, 3, 2))
    assert (early.start, early.end) == (date(2023, 2, 24), date(2023, 3, 2))


def test_a_window_never_reaches_past_now():
    future = frame("What happens in 2030?")
    assert future.end == NOW and future.empty
    filters = future.filters(None, keep_undated=False)
    assert filters.date_from == "2030-01-01" and filters.date_to == "2022-06-16"  # nothing passes


def test_filters_intersect_with_the_users_and_keep_undated_by_policy():
    week = frame("this week")
    narrowed = week.filters(SearchFilters(languages=["en"]), keep_undated=True)
    assert (narrowed.languages, narrowed.date_from, narrowed.date_to, narrowed.undated) == (
        ["en"],
        "2022-06-10",
        "2022-06-16",
        True,
    )
    # the user's own range: intersected, and undated articles stay outside it
    user = SearchFilters(date_from="2022-06-12", date_to="2022-06-30")
    both = week.filters(user, keep_undated=True)
    assert (both.date_from, both.date_to, both.undated) == ("2022-06-12", "2022-06-16", False)
    assert not week.filters(None, keep_undated=False).undated


def test_undated_pass_only_when_kept():
    kept = TimeRules(parser, "after").filters(frame("this week"), None)
    dropped = TimeRules(parser, "drop").filters(frame("this week"), None)
    undated, inside, before, future = (
        {"published_day": 0},
        {"published_day": 20220612},
        {"published_day": 20220601},
        {"published_day": 20220620},
    )
    assert [matches(m, kept) for m in (undated, inside, before, future)] == [True, True, False, False]
    assert [matches(m, dropped) for m in (undated, inside, before, future)] == [False, True, False, False]
    # Chroma's where clause says the same: (in range) OR undated
    where = to_metadata_filters(kept)
    assert where is not None and where.filters[0].condition.value == "or"


def test_without_time_words_only_the_future_is_dropped():
    # no filter (a where clause on every question costs more than the search), the step drops it
    assert TimeRules(parser).filters(None, None) is None
    passages = [passage("future", "2022-06-17", 0.9, 1), passage("old", "2020-01-01", 0.8, 2)]
    passages.append(passage("undated", "", 0.7, 3))
    kept = TimeOrder("after", weight=0.05, half_life_days=7).process(query("the floods"), passages)
    assert [(p.article_id, p.rank) for p in kept] == [("old", 1), ("undated", 2)]


def test_parse_now():
    assert parse_now("2022/06/16") == datetime(2022, 6, 16, tzinfo=UTC)
    assert parse_now("2022-06-16T09:00:00+05:30") == datetime(2022, 6, 16, 3, 30, tzinfo=UTC)
    assert parse_now(None).tzinfo is not None
    with pytest.raises(ValueError, match="2022-06-16"):
        parse_now("last Tuesday")


def test_shown_date():
    assert shown_date("") == "undated"
    assert shown_date("2023-09-14") == "2023-09-14"
    assert shown_date("2023-09-14T04:30:00+00:00") == "2023-09-14 04:30 UTC"
    assert shown_date("09/10/2023") == "09/10/2023"  # ambiguous: as given


def passage(article: str, published: str, score: float, rank: int) -> Passage:
    return Passage(
        f"{article}:0", article, article, article, "", "", published, "en", "text", 0, 4, score, rank
    )


def query(question: str, widened: bool = False) -> Query:
    return Query(
        text=question,
        language="en",
        vector=[],
        search_text=question,
        search_vector=[],
        now=datetime(2022, 6, 16, tzinfo=UTC),
        timeframe=frame(question),
        widened=widened,
    )


def test_latest_prefers_newer_and_undated_come_after():
    passages = [
        passage("old", "2022-05-01", 0.90, 1),
        passage("undated", "", 0.89, 2),
        passage("new", "2022-06-15", 0.88, 3),
    ]
    after = TimeOrder("after", weight=0.05, half_life_days=7).process(query("latest news"), passages)
    assert [p.article_id for p in after] == ["new", "old", "undated"]
    # "keep": an undated passage keeps its own place; "after" puts it behind every dated one
    strong = [passage("undated", "", 0.99, 1), *passages[:1], *passages[2:]]
    kept = TimeOrder("keep", weight=0.05, half_life_days=7).process(query("latest news"), strong)
    assert [p.article_id for p in kept] == ["undated", "new", "old"]
    behind = TimeOrder("after", weight=0.05, half_life_days=7).process(query("latest news"), strong)
    assert [p.article_id for p in behind] == ["new", "old", "undated"]
    # no time words: the order is left alone
    plain = TimeOrder("after", weight=0.05, half_life_days=7).process(query("the floods"), passages)
    assert [p.article_id for p in plain] == ["old", "undated", "new"]


def test_time_note_says_when_only_undated_articles_answered_or_the_window_was_widened():
    undated = [passage("u", "", 0.9, 1)]
    dated = [passage("d", "2022-06-12", 0.9, 1)]
    assert "undated" in time_note(query("this week"), undated)
    assert time_note(query("this week"), dated) == ""
    assert "any date" in time_note(query("this week", widened=True), dated)
    assert time_note(query("the floods"), undated) == ""
