"""``khabar eval --answerer``: generated answers scored with the same questions and report.

Without a model: the cross-script match, the fallback kinds, the record fields and the usage
error. With the real embedding model over the four tiny articles of ``tests/test_eval.py``: a
scripted language model (one reply verified, one citing a passage that does not exist) through
the pipeline's ``connected`` seam, both answerers side by side over one retrieval; and a local
OpenAI-compatible HTTP endpoint through the settings, end to end through the CLI.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from khabar import settings as settings_mod
from khabar.cli import app
from khabar.eval.data import SourceFile, load_articles, load_questions
from khabar.eval.generation import fallback_kind, generation_fields, summarise_generation
from khabar.eval.khabar_pipeline import KhabarPipeline
from khabar.eval.pipelines import make_pipelines
from khabar.eval.report import render_markdown
from khabar.eval.runner import parse_threshold, run_eval
from khabar.eval.script_match import answer_contains_any_script
from khabar.settings import Settings
from rag.types import Answer, ClaimCheck, Verification
from tests.llm_fakes import ChatServer, ScriptedLLM
from tests.test_eval import ARTICLES, write_jsonl

runner = CliRunner()


# --- without a model -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "gold", "matches"),
    [
        ("लाइब्रेरी में १०० किताबें हैं", "100", True),
        ("The library has 200,000 books", "दो लाख", True),
        ("it has 2 lakh books", "2 लाख", True),
        ("ध्रुव जुरेल को प्लेयर ऑफ द मैच चुना गया", "Dhruv Jurel", True),
        ("Dhruv Jurel was named player of the match", "ध्रुव जुरेल", True),
        ("The road is 10.58 किलोमीटर long", "10.58 kilometres", True),
        ("The road is 10.5 km long", "10.58 kilometres", False),  # another number
        ("पुतिन ने कहा", "Vladimir Putin", False),  # every name word must be there
        ("The monsoon reaches Kerala on May 30", "30 मई", False),  # translated words never match
        ("Modi said so", "the", False),  # a gold of stop words only
        ("The Greens and Labour", "ग्रीन्स", True),
        ("पाखण्डी समय देवता", "समय के देवता", False),  # same script, not the gold string: no
        ("extended six months", "6", True),
    ],
)
def test_a_gold_answer_matches_its_counterpart_in_the_other_script(answer, gold, matches):
    assert answer_contains_any_script(answer, [gold]) is matches


def test_fallback_reasons_are_sorted_into_kinds():
    reasons = {
        "only 0 of 2 sentences of the model's answer could be verified (cites [7], but only 3)": (
            "too little verified"
        ),
        "the model did not finish within 3 s": "too slow",
        "the model's answer ran past 3200 characters": "endless text",
        "the model returned an empty answer": "empty answer",
        "the model cited no passage (it may have found no answer in them)": "no citation",
        "the model answered in Hindi, not in English": "wrong language",
        "the language model at http://127.0.0.1:9/v1 failed: it answered HTTP 500": "model failed",
        "something new": "other",
        "": "",
    }
    assert {r: fallback_kind(r) for r in reasons} == reasons


def test_the_verified_share_can_gate_a_run_and_the_fallback_share_cannot():
    assert parse_threshold("verified_share=0.9") == ("verified_share", 0.9)
    assert parse_threshold("answer_accuracy_any_script=0.7") == ("answer_accuracy_any_script", 0.7)
    with pytest.raises(ValueError, match="unknown metric"):
        parse_threshold("fallback_share=0.1")  # lower is better


def _answer(answerer: str, verification: Verification | None, usage: dict[str, int]) -> Answer:
    return Answer("q", "text", [], declined=False, answerer=answerer, verification=verification, usage=usage)


def test_generation_fields_and_their_summary():
    shown = Verification([ClaimCheck("a", [1], True, 0.9), ClaimCheck("b", [1], False, 0.5, "weak")])
    failed = Verification([ClaimCheck("c", [7], False, 0.0, "cites [7]")], fallback="only 0 of 1 sentences")
    records = [
        generation_fields(_answer("generated", shown, {"completion_tokens": 30, "prompt_tokens": 900})),
        generation_fields(_answer("extractive", failed, {"completion_chunks": 4})),
        generation_fields(_answer("extractive", None, {})),  # declined before the model was asked
    ]
    assert [r["model_asked"] for r in records] == [True, True, False]
    assert records[0]["dropped"] == [{"text": "b", "reason": "weak"}]
    assert records[1]["fallback_kind"] == "too little verified" and records[2]["tokens"] is None
    summary = summarise_generation(records)
    assert summary["model_asked"] == 2 and summary["fallback_share"] == 0.5
    assert summary["verified_share"] == pytest.approx(1 / 3)  # 1 of the 3 sentences written
    assert (summary["completion_tokens"], summary["completion_tokens_mean"]) == (34, 17.0)
    assert summarise_generation(records[2:]) == {
        "model_asked": 0,
        "fallback_share": None,
        "verified_share": None,
        "completion_tokens": None,
        "completion_tokens_mean": None,
    }


def _files(tmp_path: Path) -> list[str]:
    questions = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    articles = write_jsonl(tmp_path / "a.jsonl", ARTICLES)
    return ["--questions", str(questions), "--articles", str(articles)]


def test_generated_answers_without_a_model_are_a_usage_error(tmp_path):
    settings_mod.configure(data_dir=tmp_path / "data")
    try:
        for args in (["--answerer", "generated"], ["--answerer", "both"]):
            result = runner.invoke(app, ["eval", *_files(tmp_path), *args])
            assert result.exit_code == 2, result.output
            assert "KHABAR_LLM_BASE_URL" in result.output and "KHABAR_LLM_GGUF" in result.output
        unknown = runner.invoke(app, ["eval", *_files(tmp_path), "--answerer", "poetic"])
        assert unknown.exit_code == 2 and "extractive, generated, both" in unknown.output
        # The configured answerer is the default.
        settings_mod.configure(data_dir=tmp_path / "data", answerer="generated")
        result = runner.invoke(app, ["eval", *_files(tmp_path)])
        assert result.exit_code == 2 and "KHABAR_LLM_BASE_URL" in result.output
        assert not (tmp_path / "data").exists()  # nothing was built
    finally:
        settings_mod.reset()


def test_the_report_records_generation_settings_but_never_the_api_key(tmp_path):
    settings = Settings(
        data_dir=tmp_path / "data", llm_base_url="http://127.0.0.1:9/v1", llm_api_key="sk-do-not-print"
    )
    (pipeline,) = make_pipelines(["khabar"], settings, 5, answerer="generated")
    config = json.dumps(pipeline.describe())
    described = pipeline.describe()
    assert pipeline.name == "khabar-generated" and "sk-do-not-print" not in config
    assert described["llm_api_key_set"] is True and "llm_api_key" not in described
    assert described["llm_base_url"] == "http://127.0.0.1:9/v1" and described["answerer"] == "generated"
    assert described["verify_min_similarity"] == settings.verify_min_similarity
    assert KhabarPipeline(Settings(data_dir=tmp_path / "d"), 5).describe()["llm_api_key_set"] is False


# --- a scripted model over four tiny articles (real embedding model and index) ---------------------

QUESTIONS = [
    {
        "id": "road",
        "question": "How long is Mumbai's new coastal road?",
        "language": "en",
        "answers": ["10.58 kilometres"],
        "gold_ids": ["en-coastal-road"],
    },
    {
        "id": "player",
        "question": "Who was named player of the match in the Ranchi Test?",
        "language": "en",
        "answers": ["Dhruv Jurel"],
        "gold_ids": ["en-ranchi-test"],
    },
    {
        # The gold string is in Hindi only; the English answer states the number in figures.
        "id": "books",
        "question": "How many books does the new library in Jaipur have?",
        "language": "en",
        "answers": ["दो लाख"],
        "gold_ids": ["hi-jaipur-library"],
    },
]

# (words of the question, reply with {n} for the passage holding the anchor, anchor)
REPLIES = [
    ("coastal road", "The road is 10.58 kilometres long and links Marine Drive with Worli [{n}].", "10.58"),
    ("player of the match", "Dhruv Jurel was named player of the match [7].", ""),  # no passage 7
    ("books", "The new library in Jaipur has 200,000 books [{n}].", "दो लाख"),
]


class KeyedLLM(ScriptedLLM):
    """Replies by question rather than in order (the runner's warm-up asks once more), citing the
    number the prompt gave the passage that holds the reply's anchor."""

    def _next(self, prompt: str) -> Any:
        self._prompts.append(prompt)
        question = prompt.rsplit("Question:", 1)[-1]
        for words, reply, anchor in REPLIES:
            if words in question:
                blocks = re.findall(
                    r"^\[(\d+)\][^\n]*\n(.*?)(?=\n\n\[\d+\]|\n\nQuestion:)", prompt, re.M | re.S
                )
                n = next((number for number, text in blocks if anchor and anchor in text), "1")
                return reply.format(n=n)
        return "I do not know [1]."


def _chunks(text: str, size: int = 6) -> int:
    return math.ceil(len(text) / size)


@pytest.fixture(scope="module")
def both(tmp_path_factory, model_cache) -> dict[str, Any]:
    """One run with both answerers, the model given through the pipelines' ``connected`` seam."""
    root = tmp_path_factory.mktemp("eval-generated")
    settings = Settings(data_dir=root / "data", model_cache_dir=model_cache, llm_timeout=10.0)
    questions = load_questions(write_jsonl(root / "q.jsonl", QUESTIONS))
    articles = load_articles([write_jsonl(root / "a.jsonl", ARTICLES)])
    llm = KeyedLLM("")
    pipelines = make_pipelines(["khabar"], settings, 10, answerer="both", connected=llm)
    report = run_eval(
        questions,
        articles,
        pipelines,
        name="both",
        top_k=10,
        questions_file=SourceFile("q.jsonl", "1" * 64, len(questions)),
    )
    return {"report": report, "llm": llm}


@pytest.mark.integration
def test_both_answerers_side_by_side_over_one_retrieval(both):
    report = both["report"]
    assert list(report["pipelines"]) == ["khabar", "khabar-generated"]
    extractive, generated = report["pipelines"]["khabar"], report["pipelines"]["khabar-generated"]
    assert generated["config"]["retrieval_shared_with"] == "khabar" and generated["config"]["llm_given"]
    assert extractive["index"] == generated["index"]  # one index, built once
    e, g = extractive["metrics"]["overall"], generated["metrics"]["overall"]
    for metric in ("hit@1", "hit@5", "mrr@10", "ndcg@10", "retrieval_p50_ms", "retrieval_p95_ms"):
        assert e[metric] == g[metric], metric
    for x, y in zip(extractive["questions"], generated["questions"], strict=True):
        assert (
            x["retrieved_ids"] == y["retrieved_ids"]
            and x["latency_ms"]["retrieval"] == y["latency_ms"]["retrieval"]
        )
    # The extractive column never asked the model, so it has no generated figures.
    assert e["model_asked"] == 0 and e["verified_share"] is None and e["fallback_share"] is None
    assert {r["answerer"] for r in extractive["questions"]} == {"extractive"}
    md = render_markdown(report)
    assert "| metric | khabar | khabar-generated |" in md and "generated sentences verified" in md


@pytest.mark.integration
def test_generated_answers_are_scored_from_the_scripted_replies(both):
    generated = both["report"]["pipelines"]["khabar-generated"]
    records = {r["id"]: r for r in generated["questions"]}
    m = generated["metrics"]["overall"]
    # road: verified, shown; player: cites [7] -> quoted answer instead; books: verified, shown.
    assert [records[q]["answerer"] for q in ("road", "player", "books")] == [
        "generated",
        "extractive",
        "generated",
    ]
    assert (
        records["road"]["answer"].startswith("The road is 10.58 kilometres")
        and "[1]" in records["road"]["answer"]
    )
    assert (
        records["player"]["fallback_kind"] == "too little verified" and "[7]" in records["player"]["fallback"]
    )
    assert generated["metrics"]["fallback_reasons"] == {"too little verified": 1}
    assert m["model_asked"] == 3 and m["fallback_share"] == pytest.approx(1 / 3)
    assert m["verified_share"] == pytest.approx(2 / 3)  # 2 of the 3 sentences the model wrote
    # Accuracy: "200,000" is not the gold string "दो लाख", but it is its counterpart.
    assert (
        records["books"]["answer_correct"] is False and records["books"]["answer_correct_any_script"] is True
    )
    assert records["player"]["answer_correct"] is True  # the quoted answer names him
    assert m["answer_accuracy"] == pytest.approx(2 / 3) and m["answer_accuracy_any_script"] == 1.0
    # Citations: each generated answer cites its gold article (the quoted one does too).
    assert records["road"]["citations"][0]["article_id"] == "en-coastal-road"
    assert records["books"]["citations"][0]["article_id"] == "hi-jaipur-library"
    assert m["citation_precision"] == 1.0
    # No usage from the scripted model: its streamed pieces (6 characters each) are counted.
    replies = [r.format(n=1) for _, r, _ in REPLIES]
    assert [records[q]["tokens"] for q in ("road", "player", "books")] == [_chunks(r) for r in replies]
    assert m["completion_tokens"] == sum(_chunks(r) for r in replies)
    assert m["answer_p50_ms"] is not None and m["answer_p95_ms"] >= m["answer_p50_ms"]
    md = render_markdown(both["report"])
    assert "Why the quoted answer was shown instead" in md and "| too little verified | 1 |" in md


# --- a real OpenAI-compatible endpoint, through the CLI ------------------------------------------


@pytest.mark.integration
def test_an_http_endpoint_through_the_cli_and_compare(tmp_path, model_cache):
    server = ChatServer()
    server.reply("The road is 10.58 kilometres long and links Marine Drive with Worli [1].")
    try:
        settings_mod.configure(
            data_dir=tmp_path / "data",
            model_cache_dir=model_cache,
            llm_base_url=server.base_url,
            llm_model="scripted",
            llm_api_key="sk-do-not-print",
            llm_timeout=20.0,
            llm_max_retries=0,
        )
        out = tmp_path / "run"
        result = runner.invoke(
            app, ["eval", *_files(tmp_path), "--limit", "1", "--answerer", "both", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        text = (out / "report.json").read_text(encoding="utf-8")
        assert "sk-do-not-print" not in text and "sk-do-not-print" not in (out / "report.md").read_text(
            "utf-8"
        )
        report = json.loads(text)
        assert "--answerer" in report["command"] and "both" in report["command"]
        generated = report["pipelines"]["khabar-generated"]
        assert generated["config"]["llm_base_url"] == server.base_url
        (record,) = generated["questions"]
        assert record["answerer"] == "generated" and record["answer_correct"] is True
        assert record["usage"] == {"completion_chunks": record["tokens"]} and record["tokens"] > 0
        assert server.requests and server.requests[-1]["model"] == "scripted"
        compared = runner.invoke(app, ["eval", "--compare", str(out), str(out)])
        assert compared.exit_code == 0, compared.output
        assert "khabar-generated (A) vs khabar-generated (B)" in compared.output
        assert "khabar-generated: 1 questions" in result.output
    finally:
        server.close()
        settings_mod.reset()
