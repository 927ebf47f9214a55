"""Digest questions answered as a dated timeline, and a later report preferred to the first one:
the recogniser on its own, then tiny dated articles about one heatwave ingested with the real
model (tests/digest_articles.py) and asked through the service, the CLI and the chat's renderer."""

from __future__ import annotations

import io
import re

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from khabar import cli, components
from khabar.settings import Settings
from khabar.web.render import answer_markdown
from rag.digest_question import asks_for_digest
from rag.service import QAService
from rag.stories import PreferLaterReport, day_key, day_label
from tests.digest_articles import write_articles
from tests.llm_fakes import ScriptedLLM

DIGESTS = [
    "What is the latest on the war in Ukraine?",
    "what's the latest?",
    "Latest news about heatwaves in Europe",
    "Summarise the news about heatwaves in Europe",
    "summarize twitter news",
    "What happened with Twitter this month?",
    "What happened to Credit Suisse?",
    "What happened with the strike at the port of Felixstowe this week?",
    "News about the floods in Assam",
    "Any updates on the election?",
    "Give me an overview of the rail strikes",
    "यूक्रेन युद्ध की ताज़ा खबर क्या है?",
    "ताजा खबर",
    "ट्विटर के बारे में ताज़ा जानकारी",
    "संसद पर क्या हुआ?",
    "बाढ़ की खबरों का सारांश",
    "चुनाव के बारे में ख़बरें बताइए",
    "दिल्ली में क्या चल रहा है?",
]

FACTS = [
    "Why did cities cancel fireworks?",
    "Who won the election?",
    "What is the latest iPhone called?",
    "When was the latest iPhone released?",
    "How many people died in the floods?",
    "What happened to the crew onboard during the plugs-out test?",
    "What happened in the 1990 World Cup final?",
    "Which news agency reported the crash?",
    "When did Apple release updates on iOS?",
    "Who is the new CEO of Twitter?",
    "पुतिन ने किम जोंग उन को कहाँ आमंत्रित किया?",
    "बाढ़ में कितने लोग मरे?",
    "अमेरिकी विदेश विभाग ने क्या चेतावनी दी?",
]


@pytest.mark.parametrize("question", DIGESTS)
def test_digest_questions_are_recognised(question):
    assert asks_for_digest(question)


@pytest.mark.parametrize("question", FACTS)
def test_factoid_questions_are_not_digests(question):
    assert not asks_for_digest(question)


def test_dates_sort_in_time_order_and_undated_is_said():
    assert day_key("2023/07/15") > day_key("2023-07-12T23:00:00Z") > day_key("2023-07-12") > ""
    assert (day_label("2023/07/15"), day_label(""), day_label("July")) == ("2023-07-15", "undated", "undated")


# --- with the real model over tiny dated articles ------------------------------------------------

HEATWAVE = "What is the latest on the heatwave in Europe?"
STORY_IDS = ["rhodes-fires", "spain-deaths-update", "spain-heat", "heat-health"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory, model_cache) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("digest") / "data", model_cache_dir=model_cache)


@pytest.fixture(scope="module")
def service(settings, embed_model, tmp_path_factory) -> QAService:
    ingestor = components.ingestor(settings)
    try:
        report = ingestor.ingest([write_articles(tmp_path_factory.mktemp("heatwave"))])
    finally:
        ingestor.close()
    assert report.ok and report.added == 8
    return components.service(settings, warm_up=False)


def story_of(article_id: str) -> str:
    """The syndicated copy is the same story as the wire original (either may be the one kept)."""
    return "spain-heat" if article_id.startswith("spain-heat") else article_id


def test_a_digest_question_gets_a_dated_timeline_newest_first_one_entry_per_story(service):
    answer = service.ask(HEATWAVE)
    assert not answer.declined, answer.reason
    assert answer.kind == "timeline" and answer.answerer == "extractive"
    assert [story_of(c.article_id) for c in answer.citations] == STORY_IDS
    dates = [c.published for c in answer.citations]
    assert dates == ["2023-07-18", "2023-07-15", "2023-07-10", ""]  # newest first, undated last
    lines = answer.text.splitlines()
    assert len(lines) == 4
    for n, (line, c) in enumerate(zip(lines, answer.citations, strict=True), start=1):
        assert c.marker == n
        assert line.startswith(f"{day_label(c.published)} · {c.title} — {c.sentence} [{n}]")
    # The first report and its update are one story: the update is quoted, the first date kept.
    assert answer.citations[1].first_reported == "2023-07-12"
    assert "(first reported 2023-07-12)" in lines[1]
    assert lines[3].startswith("undated · Doctors warn")


def test_a_hindi_digest_question_gets_the_english_timeline(service):
    answer = service.ask("यूरोप में गर्मी की ताज़ा खबर")
    assert answer.kind == "timeline" and not answer.declined, answer.reason
    assert [story_of(c.article_id) for c in answer.citations] == STORY_IDS


def test_a_digest_about_nothing_in_the_collection_is_declined(service):
    answer = service.ask("What is the latest on the Mars mission?")
    assert answer.declined and answer.kind == "timeline"
    assert "timeline's evidence score" in answer.reason


def test_a_factoid_question_is_answered_with_one_quote(service):
    answer = service.ask("Who won the county cup final?")
    assert answer.kind == "answer" and not answer.declined, answer.reason
    assert [c.article_id for c in answer.citations] == ["cup-final"]
    assert answer.text.startswith("Rovers won the county cup final on Sunday")


def test_the_later_report_is_quoted_with_both_dates(service):
    answer = service.ask("How many people died in the heatwave in Spain?")
    assert answer.kind == "answer" and not answer.declined, answer.reason
    first = answer.citations[0]
    assert first.article_id == "spain-deaths-update" and "30 people" in first.sentence
    assert (first.published, first.first_reported) == ("2023-07-15", "2023-07-12")
    assert "12 people" not in answer.text  # the first report says the same, older


def test_with_the_preference_off_the_first_report_can_be_quoted(service):
    step = service.evidence_steps[-1]
    assert isinstance(step, PreferLaterReport)
    service.evidence_steps[-1] = PreferLaterReport(step.stories, margin=-1)
    question = "How many people died in the heatwave in Spain?"
    try:
        answer = service.ask(question)
        found = service.search(question)
        evidence = service.evidence_for(found, found.passages)
    finally:
        service.evidence_steps[-1] = step
    assert all(not c.first_reported for c in answer.citations)
    assert any("At least 12 people" in e.text for e in evidence)  # the first report is quotable again


def rendered(answer) -> str:
    return MarkdownIt("commonmark").render(answer_markdown(answer, "t1"))


def test_the_chat_shows_the_timeline_as_a_dated_list(service):
    html = rendered(service.ask(HEATWAVE))
    items = re.findall(r"<li>(.*?)</li>", html, re.S)
    assert len(items) == 4
    assert items[0].startswith("<strong>2023-07-18</strong> · Wildfires force evacuations on Rhodes")
    assert 'href="#t1-src-1"' in items[0]
    assert "first reported 2023-07-12" in items[1]
    assert items[3].startswith("<strong>undated</strong> · Doctors warn")


def test_the_chat_notes_both_dates_of_a_later_report(service):
    html = rendered(service.ask("How many people died in the heatwave in Spain?"))
    assert "[1] first reported 2023-07-12; updated 2023-07-15" in html


def test_the_cli_prints_the_timeline(service, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=300, color_system=None))
    cli.print_answer(service.ask(HEATWAVE))
    printed = out.getvalue()
    assert "Timeline" in printed and "2023-07-18 · Wildfires force evacuations" in printed
    assert printed.index("2023-07-18") < printed.index("2023-07-15") < printed.index("undated ·")


def test_a_connected_model_summarises_the_timeline_and_is_checked(settings, embed_model):
    reply = (
        "Wildfires fanned by the heatwave forced thousands of tourists to leave hotels on Rhodes [1]. "
        "At least 30 people have died in the heatwave in Spain [2]."
    )
    llm = ScriptedLLM(reply)
    service = components.service(settings, connected=llm, warm_up=False)
    try:
        answer = service.ask(HEATWAVE, answerer="generated")
    finally:
        service.close()
    assert "newest first" in llm.prompts[-1]  # the digest prompt, with the timeline's passages
    assert answer.kind == "timeline" and answer.answerer == "generated", answer.verification
    assert answer.verification is not None and answer.verification.verified == 2
    cited = {c.marker: c for c in answer.citations}
    assert cited[1].article_id == "rhodes-fires" and cited[1].published == "2023-07-18"
    assert cited[2].first_reported == "2023-07-12"
    html = rendered(answer)
    assert "<strong>2023-07-15</strong> · Spain" in html and "Wildfires fanned" in html
