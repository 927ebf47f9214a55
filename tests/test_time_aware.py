"""Time-aware answering end to end with the real model: reports of one story dated in different
weeks, one dated after "now" and one undated; "this week" finds the week's report, "latest" the
newest one up to now, `khabar ask --now` and `khabar eval` read the question's date as now."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from khabar import components
from khabar import settings as settings_mod
from khabar.cli import app
from khabar.settings import Settings
from rag.service import QAService

pytestmark = pytest.mark.integration

NOW = "2022-06-16"
ARTICLES = [
    (
        "bridge-may",
        "2022-05-10",
        "The Riverton city council voted to study a new bridge over the Kell river. Engineers will "
        "report on the cost of the bridge by the summer.",
    ),
    (
        "bridge-june-03",
        "2022-06-03",
        "The Riverton city council approved the design of the new Kell river bridge. The bridge "
        "will have four lanes and a cycle path.",
    ),
    (
        "bridge-june-14",
        "2022-06-14T18:00:00+05:30",
        "The Riverton city council approved a budget of 40 million dollars for the Kell river "
        "bridge. Construction of the bridge starts in August.",
    ),
    (
        "bridge-june-20",  # after "now": never an answer when asked on 2022-06-16
        "2022-06-20",
        "The Riverton city council approved the contractor for the Kell river bridge. The bridge "
        "contract went to a local builder.",
    ),
    (
        "bridge-undated",
        "",
        "The Riverton city council approved a toll for the Kell river bridge. Drivers will pay two "
        "dollars to cross the bridge.",
    ),
]
THIS_WEEK = "What did the Riverton city council approve for the Kell river bridge this week?"
LATEST = "What is the latest the Riverton city council approved for the Kell river bridge?"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("time-aware")
    rows = [
        {"id": i, "title": "Kell river bridge", "text": text, "language": "en", "published": day}
        for i, day, text in ARTICLES
    ]
    (folder / "articles.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def settings(folder, model_cache) -> Settings:
    return Settings(data_dir=folder / "data", model_cache_dir=model_cache)


@pytest.fixture(scope="module")
def service(settings, folder, embed_model) -> QAService:
    ingestor = components.ingestor(settings)
    try:
        assert ingestor.ingest([folder / "articles.jsonl"]).ok
    finally:
        ingestor.close()
    return components.service(settings, warm_up=False)


def first_article(answer) -> str:
    return answer.passages[0].article_id


def test_dates_are_stored_in_utc_and_undated_stays_undated(service):
    found = service.search("Kell river bridge toll budget contractor design", now="2022-07-01")
    published = {p.article_id: p.published for p in found.passages}
    assert published["bridge-june-14"] == "2022-06-14T12:30:00+00:00"
    assert published["bridge-undated"] == ""  # never today's date


def test_this_week_answers_from_the_weeks_report(service):
    answer = service.ask(THIS_WEEK, now=NOW)
    assert first_article(answer) == "bridge-june-14"
    assert answer.timeframe == "this week (2022-06-10 to 2022-06-16)"
    assert not answer.declined and answer.citations[0].article_id == "bridge-june-14"
    assert "40 million" in answer.text
    # nothing outside the window is retrieved; the undated report comes after the dated one
    ids = [p.article_id for p in answer.passages]
    assert set(ids) <= {"bridge-june-14", "bridge-undated"} and ids.index("bridge-undated") > 0
    # a week later, "this week" is another week: the report dated after the first "now"
    assert first_article(service.ask(THIS_WEEK, now="2022-06-22")) == "bridge-june-20"


def test_latest_prefers_the_newest_report_up_to_now(service):
    answer = service.ask(LATEST, now=NOW)
    ids = [p.article_id for p in answer.passages]
    assert ids[0] == "bridge-june-14"
    assert "bridge-june-20" not in ids  # after now
    assert ids.index("bridge-june-03") < ids.index("bridge-may")


def test_a_window_with_nothing_in_it_is_widened_and_says_so(settings, service):
    strict = components.service(settings.model_copy(update={"time_undated": "drop"}), warm_up=False)
    answer = strict.ask("What did the Riverton city council approve for the bridge in March 2022?", now=NOW)
    assert answer.passages, "answered from the search without the window"
    assert "No article is dated march 2022 (2022-03-01 to 2022-03-31)" in answer.time_note
    assert "bridge-june-20" not in [p.article_id for p in answer.passages]


def test_time_awareness_off_reads_time_words_as_words(settings, service):
    plain = components.service(settings.model_copy(update={"time_aware": False}), warm_up=False)
    answer = plain.ask(THIS_WEEK, now=NOW)
    assert answer.timeframe == ""
    assert "bridge-june-20" in [p.article_id for p in answer.passages]


@pytest.fixture
def cli(monkeypatch, folder, model_cache, embed_model):
    monkeypatch.chdir(folder)
    for name in [k for k in os.environ if k.startswith(settings_mod.ENV_PREFIX)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KHABAR_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("KHABAR_DATA_DIR", str(folder / "data"))
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def invoke(*args: str):
        settings_mod.reset()
        return runner.invoke(app, list(args), catch_exceptions=False)

    yield invoke
    settings_mod.reset()


def test_cli_now_and_citation_dates(cli, service):
    result = cli("ask", THIS_WEEK, "--now", NOW, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["timeframe"].startswith("this week")
    assert answer["citations"][0]["article_id"] == "bridge-june-14"
    shown = cli("ask", "What toll did the Riverton council approve for the Kell bridge?", "--now", NOW)
    assert "undated" in shown.output  # the undated report's citation says so
    assert "Time frame" not in shown.output
    bad = cli("ask", THIS_WEEK, "--now", "next tuesday")
    assert bad.exit_code == 2 and "2022-06-16" in bad.output


def test_eval_reads_each_questions_date_as_now(cli, folder, service):
    questions = folder / "questions.jsonl"
    rows = [
        {"id": "q1", "question": THIS_WEEK, "language": "en", "answers": ["40 million"]},
        {"id": "q2", "question": THIS_WEEK, "language": "en", "answers": ["local builder"]},
    ]
    rows[0] |= {"gold_ids": ["bridge-june-14"], "date": "2022/06/16"}
    rows[1] |= {"gold_ids": ["bridge-june-20"], "date": "2022/06/22"}
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = folder / "report"
    args = ["eval", "--questions", str(questions), "--articles", str(folder / "articles.jsonl"), "--out"]
    result = cli(*args, str(out), "--top-k", "3")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    records = report["pipelines"]["khabar"]["questions"]
    assert [r["gold_rank"] for r in records] == [1, 1]
    assert records[0]["timeframe"] == "this week (2022-06-10 to 2022-06-16)"
    assert report["pipelines"]["khabar"]["config"]["time_aware"] is True
    off = cli(*args, str(folder / "report-off"), "--top-k", "3", "--no-time-aware")
    assert off.exit_code == 0, off.output
    plain = json.loads((folder / "report-off" / "report.json").read_text(encoding="utf-8"))
    assert plain["pipelines"]["khabar"]["config"]["time_aware"] is False
    assert (
        "timeframe" not in plain["pipelines"]["khabar"]["questions"][1]
        or not (plain["pipelines"]["khabar"]["questions"][1]["timeframe"])
    )
