"""``khabar eval``: validation, scoring, reports, thresholds and comparison.

Two halves. The first drives the runner with a scripted fake pipeline, so every expected number
is worked out by hand in the comments (no model involved, milliseconds). The second runs the
real command end to end (real model, real index) on a tiny two-language collection made here,
and checks what that collection implies: with 4 one-chunk articles and top_k 10, every article
is retrieved, so hit@5 must be 1.0; unanswerable questions must land in the abstention figures.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from index.chroma import validate_index_name
from index.records import Passage
from khabar import settings as settings_mod
from khabar.cli import app
from khabar.eval.build import BuildInfo
from khabar.eval.compare import compare_reports, render_compare_markdown
from khabar.eval.data import (
    ArticleInfo,
    ArticleSet,
    EvalDataError,
    Question,
    SourceFile,
    check_gold_ids,
    load_articles,
    load_questions,
)
from khabar.eval.khabar_pipeline import eval_index_name
from khabar.eval.metrics import citation_support, cited_segments
from khabar.eval.report import render_html, render_markdown, write_reports
from khabar.eval.runner import check_thresholds, parse_threshold, run_eval
from khabar.settings import Settings
from rag.types import Answer, Citation
from tests.factories import make_passage

runner = CliRunner()


# --- a scripted pipeline ---------------------------------------------------------------------------


def passage(article_id: str, text: str, rank: int, language: str = "en") -> Passage:
    return make_passage(article_id, text, rank, language=language)


def citation(marker: int, p: Passage, sentence: str) -> Citation:
    start = max(p.text.find(sentence), 0)
    return Citation(
        marker=marker,
        article_id=p.article_id,
        chunk_id=p.chunk_id,
        title="",
        source="",
        published="",
        url="",
        language=p.language,
        sentence=sentence,
        start=start,
        end=start + len(sentence),
        passage=p.text,
        passage_start=0,
        passage_end=len(p.text),
        highlight=(start, start + len(sentence)),
        score=0.9,
    )


def answered(
    question: str, passages: list[Passage], cited: list[tuple[int, str]], text: str | None = None
) -> Answer:
    """An answer quoting ``cited`` = [(index into passages, sentence)], formatted like the answerer's."""
    citations = [citation(i + 1, passages[j], s) for i, (j, s) in enumerate(cited)]
    text = text if text is not None else " ".join(f"{c.sentence} [{c.marker}]" for c in citations)
    timings = {"embed": 10.0, "retrieve": 5.0, "answer": 2.0, "total": 17.0}
    return Answer(question, text, citations, declined=False, passages=passages, timings_ms=timings)


def declined(question: str, passages: list[Passage]) -> Answer:
    timings = {"embed": 10.0, "retrieve": 5.0, "answer": 2.0, "total": 17.0}
    return Answer(
        question, "No answer.", [], declined=True, reason="too weak", passages=passages, timings_ms=timings
    )


A1 = "Mumbai's coastal road is 10.58 kilometres long. It links Marine Drive with Worli."
A2 = "Dhruv Jurel was player of the match. India won by five wickets."
H1 = "मानसून 30 मई को केरल पहुँचेगा।"
H2 = "लाइब्रेरी में दो लाख किताबें हैं। यह रोज़ खुली रहेगी।"


def fake_questions() -> list[Question]:
    def q(
        qid: str, text: str, lang: str, answers: tuple[str, ...], gold: tuple[str, ...], ok: bool = True
    ) -> Question:
        return Question(qid, text, lang, answers, gold, answerable=ok, origin=f"q.jsonl:{qid}")

    return [
        q("q1", "How long is the road?", "en", ("10.58 kilometres",), ("a1",)),
        q("q2", "Who was player of the match?", "en", ("Dhruv Jurel",), ("a2",)),
        q("q3", "मानसून कब आएगा?", "hi", ("30 मई",), ("h1",)),
        q("q4", "कितनी किताबें हैं?", "hi", ("दो लाख",), ("h2",)),
        q("u1", "What is a waffle?", "en", (), (), ok=False),
        q("u2", "Who won the <b>2018</b> World Cup | final?", "hi", (), (), ok=False),
    ]


def fake_articles() -> ArticleSet:
    infos = {
        "a1": ArticleInfo("a1", "en", "", "a.jsonl"),
        "a2": ArticleInfo("a2", "en", "", "a.jsonl"),
        "h1": ArticleInfo("h1", "hi", "", "a.jsonl"),
        "h2": ArticleInfo("h2", "hi", "", "a.jsonl"),
    }
    return ArticleSet([SourceFile("a.jsonl", "0" * 64, 4)], infos)


def script_a() -> dict[str, Answer]:
    """q1 right at rank 1; q2 wrong, gold at passage 3 (article rank 2); q3 gold not retrieved and
    declined; q4 right, second claim not in its passage; u1 declined (right); u2 answered (wrong)."""
    p_a1, p_a2 = passage("a1", A1, 1), passage("a2", A2, 3)
    p_h2 = passage("h2", H2, 1, "hi")
    return {
        "How long is the road?": answered(
            "q1", [p_a1, p_a2], [(0, "Mumbai's coastal road is 10.58 kilometres long.")]
        ),
        "Who was player of the match?": answered(
            "q2", [p_a1, passage("a1", A1, 2), p_a2], [(0, "It links Marine Drive with Worli.")]
        ),
        "मानसून कब आएगा?": declined("q3", [p_h2]),
        "कितनी किताबें हैं?": answered(
            "q4", [p_h2], [], text="लाइब्रेरी में दो लाख किताबें हैं। [1] यह मंगलवार को बंद रहेगी। [2]"
        ),
        "What is a waffle?": declined("u1", [p_a1]),
        "Who won the <b>2018</b> World Cup | final?": answered(
            "u2", [p_a2], [(0, "India won by five wickets.")]
        ),
    }


def fix_q4(script: dict[str, Answer]) -> dict[str, Answer]:
    """q4's text cites two markers: give it the two citations (both to h2) the text refers to."""
    p_h2 = passage("h2", H2, 1, "hi")
    answer = script["कितनी किताबें हैं?"]
    answer.citations = [citation(1, p_h2, "लाइब्रेरी में दो लाख किताबें हैं।"), citation(2, p_h2, "यह रोज़ खुली रहेगी।")]
    return script


class ScriptedPipeline:
    """Stands in for a real system: the runner only needs build() and ask()."""

    def __init__(self, name: str, script: dict[str, Answer]):
        self.name = name
        self.script = script
        self.asked: list[str] = []

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def build(self, articles: ArticleSet, progress: Any = None) -> BuildInfo:
        return BuildInfo("eval-000000000000", "built", 2.0, 10, 40, 5.0, 10, len(articles.articles))

    def ask(self, question: str, history=(), now: str = "") -> Answer:
        self.asked.append(question)
        self.histories = [*getattr(self, "histories", []), list(history)]
        return self.script[question]


def fake_report(script: dict[str, Answer], name: str = "khabar") -> dict[str, Any]:
    questions = fake_questions()
    return run_eval(
        questions,
        fake_articles(),
        [ScriptedPipeline(name, script)],
        name="fake",
        top_k=10,
        questions_file=SourceFile("q.jsonl", "1" * 64, len(questions)),
    )


@pytest.fixture
def report_a() -> dict[str, Any]:
    return fake_report(fix_q4(script_a()))


def test_metrics_of_a_scripted_run(report_a):
    result = report_a["pipelines"]["khabar"]
    m = result["metrics"]["overall"]
    assert (m["questions"], m["answerable"], m["unanswerable"], m["answered"]) == (6, 4, 2, 4)
    # Passage ranks of the gold article: q1 1, q2 3 (a1 fills two slots), q3 none, q4 1.
    assert [r["gold_rank"] for r in result["questions"][:4]] == [1, 3, None, 1]
    assert result["questions"][1]["gold_article_rank"] == 2
    assert m["hit@1"] == pytest.approx(2 / 4)
    assert m["hit@5"] == m["hit@10"] == pytest.approx(3 / 4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1) / 4)
    # nDCG ranks distinct articles: q2's gold is article 2 -> 1/log2(3).
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 0 + 1) / 4)
    assert m["answer_accuracy"] == pytest.approx(2 / 4)  # q1, q4 right; q2 wrong; q3 declined
    # Citation precision over answered answerable questions: q1 1, q2 0 (cites a1), q4 1.
    assert m["citation_precision"] == pytest.approx(2 / 3)
    # Support over answers given: q1 1, q2 1, q4 1/2 ("बंद रहेगी" is in no passage), u2 1.
    assert m["citation_support"] == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    # Abstention: u1 declined, u2 answered; q3 (answerable) declined.
    assert m["declined_unanswerable"] == m["decline_recall"] == pytest.approx(1 / 2)
    assert m["wrongly_declined"] == pytest.approx(1 / 4)
    assert m["decline_precision"] == pytest.approx(1 / 2)
    assert m["retrieval_p50_ms"] == 15.0 and m["answer_p95_ms"] == 2.0
    assert m["index_build_seconds"] == 2.0 and m["index_chunks_per_second"] == 5.0
    assert [r["correct"] for r in result["questions"]] == [True, False, False, True, True, False]


def test_breakdowns_by_language_and_article_language(report_a):
    metrics = report_a["pipelines"]["khabar"]["metrics"]
    assert set(metrics["by_language"]) == {"en", "hi"}
    assert metrics["by_language"]["en"]["hit@1"] == pytest.approx(1 / 2)  # q1 yes, q2 no
    assert metrics["by_language"]["hi"]["answer_accuracy"] == pytest.approx(1 / 2)  # q4 yes, q3 declined
    assert {q: set(a) for q, a in metrics["by_language_pair"].items()} == {
        "en": {"en", "none"},
        "hi": {"hi", "none"},
    }
    assert metrics["by_language_pair"]["hi"]["none"]["declined_unanswerable"] == 0.0  # u2 answered


def test_warm_up_question_is_not_scored():
    pipeline = ScriptedPipeline("khabar", fix_q4(script_a()))
    questions = fake_questions()
    report = run_eval(
        questions,
        fake_articles(),
        [pipeline],
        name="x",
        top_k=10,
        questions_file=SourceFile("q.jsonl", "1" * 64, 6),
    )
    assert len(pipeline.asked) == len(questions) + 1  # one warm-up
    assert len(report["pipelines"]["khabar"]["questions"]) == len(questions)


def test_reports_escape_question_text(report_a, tmp_path):
    paths = write_reports(report_a, tmp_path)
    assert {p.name for p in paths.values()} == {"report.json", "report.md", "report.html"}
    page = paths["html"].read_text(encoding="utf-8")
    assert "&lt;b&gt;2018&lt;/b&gt;" in page and "<b>2018" not in page  # u2 is listed as a miss
    assert page.count("data:image/png;base64,") == 3 and "http" not in page.split("<body>")[0]
    md = paths["md"].read_text(encoding="utf-8")
    assert "&lt;b&gt;2018&lt;/b&gt; World Cup \\| final?" in md
    assert "passage positions" in md
    assert (
        json.loads(paths["json"].read_text(encoding="utf-8"))["pipelines"]["khabar"]["questions"][0]["id"]
        == "q1"
    )
    assert render_markdown(report_a) == md and render_html(report_a).startswith("<!DOCTYPE html>")


def test_compare_lists_flipped_questions(report_a):
    script = fix_q4(script_a())
    p_a2 = passage("a2", A2, 1)
    script["Who was player of the match?"] = answered(
        "q2", [p_a2], [(0, "Dhruv Jurel was player of the match.")]
    )
    script["How long is the road?"] = declined("q1", [passage("a2", A2, 1), passage("a1", A1, 2)])
    report_b = fake_report(script)
    comparison = compare_reports(report_a, report_b)
    (c,) = comparison["pipelines"]
    assert [e["id"] for e in c["flips"]["answer"]["right_to_wrong"]] == ["q1"]
    assert [e["id"] for e in c["flips"]["answer"]["wrong_to_right"]] == ["q2"]
    assert c["flips"]["hit@5"] == {"right_to_wrong": [], "wrong_to_right": []}  # both still in the top 5
    assert c["overall"]["hit@1"]["delta"] == pytest.approx(0.0)  # q1 lost rank 1, q2 gained it
    assert c["overall"]["mrr@10"]["delta"] == pytest.approx((1 / 2 - 1) / 4 + (1 - 1 / 3) / 4)
    assert c["overall"]["wrongly_declined"]["better"] is False
    assert c["warnings"] == []
    assert "right to wrong (1)" in render_compare_markdown(comparison)


def test_compare_pairs_differently_named_pipelines(report_a):
    other = fake_report(fix_q4(script_a()), name="stock")
    (c,) = compare_reports(report_a, other)["pipelines"]
    assert (c["a"], c["b"]) == ("khabar", "stock")


def test_several_pipelines_side_by_side():
    questions = fake_questions()
    report = run_eval(
        questions,
        fake_articles(),
        [ScriptedPipeline("khabar", fix_q4(script_a())), ScriptedPipeline("stock", fix_q4(script_a()))],
        name="two",
        top_k=10,
        questions_file=SourceFile("q.jsonl", "1" * 64, len(questions)),
    )
    assert list(report["pipelines"]) == ["khabar", "stock"]
    md = render_markdown(report)
    assert "## Pipelines side by side" in md and "| metric | khabar | stock |" in md


def test_thresholds():
    assert parse_threshold("hit@5=0.9") == ("hit@5", 0.9)
    with pytest.raises(ValueError, match="valid: hit@1, hit@5"):
        parse_threshold("hit@3=0.9")
    with pytest.raises(ValueError, match="0 to 1"):
        parse_threshold("answer_accuracy=80")
    with pytest.raises(ValueError, match="unknown metric"):
        parse_threshold("retrieval_p95_ms=100")  # lower is better: "fail under" makes no sense
    overall = {"hit@5": 0.9, "answer_accuracy": 0.79, "decline_recall": None}
    assert check_thresholds(overall, [("hit@5", 0.9)]) == []
    failures = check_thresholds(overall, [("answer_accuracy", 0.8), ("decline_recall", 0.5)])
    assert [f.split()[0] for f in failures] == ["answer_accuracy", "decline_recall"]


def test_cited_segments_pair_claims_with_their_passages():
    passages = {1: "Putin will visit Pyongyang soon.", 2: "Kim said so, reports say."}
    pairs = cited_segments("Putin will visit Pyongyang [1]. Kim said so [1, 2]. Uncited.", passages)
    assert pairs == [
        ("Putin will visit Pyongyang", passages[1]),
        ("Kim said so", passages[2]),  # the cited passage that holds it
        ("Uncited.", ""),
    ]
    assert citation_support(pairs) == pytest.approx(2 / 3)


def test_index_name_follows_content_and_index_settings():
    base = Settings()
    name = eval_index_name(["aa", "bb"], base)
    assert name.startswith("eval-") and len(name) == 17 and validate_index_name(name) == name
    assert eval_index_name(["bb", "aa"], base) == name  # order of --articles does not matter
    assert eval_index_name(["aa", "bb"], base.model_copy(update={"top_k": 3})) == name  # retrieval only
    assert eval_index_name(["aa", "bb"], base.model_copy(update={"chunk_tokens": 128})) != name
    assert eval_index_name(["aa", "bb"], base.model_copy(update={"embed_passage_prefix": ""})) != name
    assert eval_index_name(["aa", "cc"], base) != name


def test_index_name_follows_every_recipe_setting_and_no_answer_setting():
    from khabar.eval.khabar_pipeline import ANSWER_SETTINGS
    from khabar.settings import EmbeddingSettings, RecipeSettings

    base = Settings()
    name = eval_index_name(["a", "b"], base)
    changed = {
        "chunk_overlap_tokens": 20,
        "language_detection": False,
        "languages": ("hi", "en"),
        "index_titles": False,
        "embed_query_prefix": "q: ",
        "embed_max_tokens": 256,
    }
    recipe = (set(RecipeSettings.model_fields) | set(EmbeddingSettings.model_fields)) - {
        "embed_batch_size",
        "embed_threads",
        "model_cache_dir",
    }
    assert set(changed) <= recipe
    for field, value in changed.items():
        assert eval_index_name(["a", "b"], base.model_copy(update={field: value})) != name, field
    for field in ANSWER_SETTINGS:  # answer settings never rename (and so rebuild) the index
        value = getattr(base, field)
        other = (not value) if isinstance(value, bool) else value
        assert eval_index_name(["a", "b"], base.model_copy(update={field: other})) == name, field


def test_the_recipes_code_fingerprint_follows_code_not_comments(tmp_path, monkeypatch):
    from index.spec import code_fingerprint

    module = tmp_path / "recipe_probe.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    module.write_text('"""Doc."""\n\ndef chunk(x):\n    return x[:220]\n')
    first = code_fingerprint(["recipe_probe"])
    module.write_text(
        '"""Reworded doc."""\n\n\ndef chunk(x):  # a comment\n    """Why."""\n    return x[:220]\n'
    )
    assert code_fingerprint(["recipe_probe"]) == first  # docstrings, comments, blank lines
    module.write_text('"""Doc."""\n\ndef chunk(x):\n    return x[:128]\n')
    assert code_fingerprint(["recipe_probe"]) != first  # what the code does


# --- input validation ----------------------------------------------------------------------------


def test_question_file_problems_name_file_and_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Q?", "language": "en", "answers": ["x"], "gold_ids": ["g"]}\n'
        "{not json\n"
        '{"id": "b", "question": "Q?", "language": "en", "answers": [], "gold_ids": ["g"]}\n'
        '{"id": "a", "question": "Q?", "language": "en", "answers": ["x"], "gold_ids": ["g"]}\n'
        '{"id": "c", "question": "Q?", "language": "en", "answerable": false}\n',
        encoding="utf-8",
    )
    with pytest.raises(EvalDataError) as caught:
        load_questions(path)
    message = str(caught.value)
    assert f"{path}:2: not valid JSON" in message
    assert f"{path}:3:" in message and "answers" in message
    assert f"{path}:4: duplicate id 'a' (first used on line 1)" in message
    assert f"{path}:5" not in message  # an unanswerable question needs no answers or gold ids


def test_gold_ids_must_name_articles(tmp_path):
    articles = tmp_path / "a.jsonl"
    articles.write_text(
        '{"id": "g", "title": "T", "text": "Some text here.", "language": "en"}\n', encoding="utf-8"
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "Q?", "language": "en", "answers": ["x"], "gold_ids": ["g", "gone"]}\n',
        encoding="utf-8",
    )
    loaded = load_articles([articles])
    assert loaded.articles["g"].language == "en" and len(loaded.files[0].sha256) == 64
    with pytest.raises(EvalDataError, match=r"q\.jsonl:1: gold id\(s\) 'gone' match no article"):
        check_gold_ids(load_questions(questions), loaded)


def test_bad_input_is_a_usage_error_before_any_work(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("[1, 2]\n", encoding="utf-8")
    articles = tmp_path / "a.jsonl"
    articles.write_text('{"id": "g", "text": "Text.", "language": "en"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", "--questions", str(questions), "--articles", str(articles)])
    assert result.exit_code == 2 and "q.jsonl:1" in result.output
    result = runner.invoke(
        app, ["eval", "--questions", str(questions), "--articles", str(articles), "--fail-under", "recall=1"]
    )
    assert result.exit_code == 2 and "valid:" in result.output and "answer_accuracy" in result.output
    assert runner.invoke(app, ["eval"]).exit_code == 2


def test_deeply_nested_input_files_are_data_errors(tmp_path):
    """json's parser recurses once per level: a file nested thousands deep must be reported, like
    any broken line, not end the command with a RecursionError traceback."""
    deep = "[" * 100_000 + "]" * 100_000
    good_question = '{"id": "a", "question": "Q?", "language": "en", "answers": ["x"], "gold_ids": ["g"]}'
    good_article = '{"id": "g", "text": "Text about the monsoon.", "language": "en"}'
    cases = {
        "questions": (f"{good_question}\n{deep}\n", f"{good_article}\n", "q.jsonl:2"),
        "articles": (f"{good_question}\n", f"{good_article}\n{deep}\n", "(line 2)"),
    }
    for name, (questions_text, articles_text, where) in cases.items():
        questions, articles = tmp_path / "q.jsonl", tmp_path / "a.jsonl"
        questions.write_text(questions_text, encoding="utf-8")
        articles.write_text(articles_text, encoding="utf-8")
        result = runner.invoke(app, ["eval", "--questions", str(questions), "--articles", str(articles)])
        assert result.exit_code == 2, (name, result.output)
        assert where in result.output and "nested too deeply" in result.output, name
    articles.write_text(deep, encoding="utf-8")
    with pytest.raises(EvalDataError, match="nested too deeply"):
        load_articles([articles])


# --- end to end, real model ------------------------------------------------------------------------

ARTICLES = [
    {
        "id": "en-coastal-road",
        "title": "Mumbai coastal road opens",
        "text": "The first stretch of Mumbai's coastal road opened to traffic on Monday. The road is 10.58 "
        "kilometres long and links Marine Drive with Worli. It cost 12,721 crore rupees to build. "
        "Officials expect it to cut the evening commute by forty minutes.",
        "language": "en",
    },
    {
        "id": "en-ranchi-test",
        "title": "India win in Ranchi",
        "text": "India beat England by five wickets in the fourth Test in Ranchi on Monday. Shubman Gill "
        "made 52 not out in the chase. Wicketkeeper Dhruv Jurel was named player of the match for his 90 in "
        "the first innings. India lead the five-match series 3-1.",
        "language": "en",
    },
    {
        "id": "hi-monsoon",
        "title": "मानसून की भविष्यवाणी",
        "text": "भारतीय मौसम विभाग ने कहा है कि इस साल मानसून 30 मई को केरल पहुँचेगा। विभाग के अनुसार इस बार "
        "सामान्य से अधिक बारिश होगी। पिछले साल मानसून आठ जून को पहुँचा था। किसानों को बुवाई की तैयारी करने "
        "की सलाह दी गई है।",
        "language": "hi",
    },
    {
        "id": "hi-jaipur-library",
        "title": "जयपुर में नई लाइब्रेरी",
        "text": "जयपुर में राज्य की सबसे बड़ी सार्वजनिक लाइब्रेरी का उद्घाटन रविवार को हुआ। इस लाइब्रेरी में दो लाख "
        "किताबें रखी गई हैं। यह लाइब्रेरी रोज़ सुबह आठ बजे से रात दस बजे तक खुली रहेगी। इसमें बच्चों के लिए "
        "एक अलग कक्ष भी बनाया गया है।",
        "language": "hi",
    },
]

QUESTIONS = [
    {
        "id": "en-road",
        "question": "How long is Mumbai's new coastal road?",
        "language": "en",
        "answers": ["10.58 kilometres"],
        "gold_ids": ["en-coastal-road"],
    },
    {
        "id": "en-player",
        "question": "Who was named player of the match in the Ranchi Test?",
        "language": "en",
        "answers": ["Dhruv Jurel"],
        "gold_ids": ["en-ranchi-test"],
    },
    {
        "id": "hi-monsoon",
        "question": "मानसून केरल में कब पहुँचेगा?",
        "language": "hi",
        "answers": ["30 मई"],
        "gold_ids": ["hi-monsoon"],
    },
    {
        "id": "hi-books",
        "question": "जयपुर की नई लाइब्रेरी में कितनी किताबें हैं?",
        "language": "hi",
        "answers": ["दो लाख"],
        "gold_ids": ["hi-jaipur-library"],
    },
    {
        "id": "en-books",
        "question": "How many books does the new library in Jaipur have?",
        "language": "en",
        "answers": ["दो लाख", "two lakh"],
        "gold_ids": ["hi-jaipur-library"],
    },
    {
        "id": "en-waffles",
        "question": "What is the recipe for Belgian waffles?",
        "language": "en",
        "answers": [],
        "gold_ids": [],
        "answerable": False,
    },
    {
        "id": "hi-mars",
        "question": "मंगल ग्रह के कितने चंद्रमा हैं?",
        "language": "hi",
        "answers": [],
        "gold_ids": [],
        "answerable": False,
    },
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, model_cache):
    """One real evaluation (index built from nothing), shared by the end-to-end tests."""
    root = tmp_path_factory.mktemp("eval-e2e")
    settings_mod.configure(data_dir=root / "data", model_cache_dir=model_cache)
    files = {
        "root": root,
        "articles": write_jsonl(root / "articles.jsonl", ARTICLES),
        "questions": write_jsonl(root / "questions.jsonl", QUESTIONS),
        "out": root / "run-a",
        "model_cache": model_cache,
    }
    result = runner.invoke(
        app,
        [
            "eval",
            "--questions",
            str(files["questions"]),
            "--articles",
            str(files["articles"]),
            "--out",
            str(files["out"]),
            "--fail-under",
            "hit@5=1.0",
            "--fail-under",
            "hit@10=1.0",
        ],
    )
    files["result"] = result
    yield files
    settings_mod.reset()


def cli(e2e: dict[str, Any], *args: str):
    # Other tests' fixtures reset the settings between ours: set them again for every run.
    settings_mod.configure(data_dir=e2e["root"] / "data", model_cache_dir=e2e["model_cache"])
    return runner.invoke(
        app, ["eval", "--questions", str(e2e["questions"]), "--articles", str(e2e["articles"]), *args]
    )


@pytest.mark.integration
def test_reuse_index_answers_from_the_index_given_and_refuses_a_missing_one(e2e, tmp_path):
    built = json.loads((e2e["out"] / "report.json").read_text(encoding="utf-8"))
    name = built["pipelines"]["khabar"]["index"]["index_name"]
    reused = cli(e2e, "--limit", "1", "--reuse-index", name, "--out", str(tmp_path / "r"))
    assert reused.exit_code == 0, reused.output
    config = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["pipelines"]["khabar"]
    assert config["config"]["index_given"] and config["index"]["index_name"] == name
    missing = cli(e2e, "--reuse-index", "eval-000000000000")
    assert missing.exit_code == 2 and "no such index" in missing.output and name in missing.output
    both = cli(e2e, "--reuse-index", name, "--rebuild")
    assert both.exit_code == 2 and "would drop the index given" in both.output


@pytest.mark.integration
def test_end_to_end_report(e2e):
    result = e2e["result"]
    assert result.exit_code == 0, result.output
    assert "threshold(s) met" in result.output
    out = e2e["out"]
    assert all((out / f"report.{kind}").is_file() for kind in ("json", "md", "html"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    khabar = report["pipelines"]["khabar"]
    index = khabar["index"]
    assert index["status"] == "built" and index["index_name"].startswith("eval-")
    assert index["index_articles"] == 4 and index["chunks_embedded"] == index["index_chunks"] > 0
    assert index["chunks_per_second"] > 0 and index["sentences_embedded"] >= index["chunks_embedded"]
    m = khabar["metrics"]["overall"]
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (7, 5, 2)
    # Four articles of one chunk each, top_k 10: every article is retrieved for every question.
    assert m["hit@5"] == m["hit@10"] == 1.0
    records = {r["id"]: r for r in khabar["questions"]}
    for r in records.values():
        assert sorted(set(r["retrieved_ids"])) == sorted(a["id"] for a in ARTICLES)
        assert set(r["latency_ms"]) >= {"embed", "retrieve", "retrieval", "answer", "total"}
        if not r["declined"]:
            assert r["citations"] and all(
                {"article_id", "chunk_id", "sentence"} <= set(c) for c in r["citations"]
            )
    # The unanswerable questions are what the abstention figures count.
    declined_unanswerable = sum(records[q]["declined"] for q in ("en-waffles", "hi-mars"))
    assert m["declined_unanswerable"] == declined_unanswerable / 2
    assert records["en-waffles"]["answer_correct"] is None and records["en-waffles"]["hit@5"] is None
    # Accuracy is the share of answerable records whose answer holds a gold string.
    assert m["answer_accuracy"] == sum(r["answer_correct"] for r in records.values() if r["answerable"]) / 5
    assert records["hi-books"]["article_language"] == "hi" and records["en-books"]["article_language"] == "hi"
    metrics = khabar["metrics"]
    assert set(metrics["by_language"]) == {"en", "hi"}
    assert metrics["by_language"]["en"]["questions"] == 4 and metrics["by_language"]["hi"]["questions"] == 3
    assert {q: set(a) for q, a in metrics["by_language_pair"].items()} == {
        "en": {"en", "hi", "none"},
        "hi": {"hi", "none"},
    }
    assert metrics["by_language_pair"]["en"]["none"]["unanswerable"] == 1
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "passage positions" in md and "q en → a hi" in md
    assert (out / "report.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 3


@pytest.mark.integration
def test_fail_under_and_compare(e2e, tmp_path):
    assert e2e["result"].exit_code == 0, e2e["result"].output
    out_b = tmp_path / "run-b"
    passed = cli(e2e, "--out", str(out_b), "--fail-under", "hit@5=1.0")
    assert passed.exit_code == 0, passed.output
    report_b = json.loads((out_b / "report.json").read_text(encoding="utf-8"))
    index = report_b["pipelines"]["khabar"]["index"]
    assert (
        index["status"] == "reused" and index["chunks_embedded"] == 0 and index["first_build"]["chunks"] > 0
    )
    # An impossible bar: extractive answers are whole sentences, far longer than the gold strings.
    failed = cli(e2e, "--limit", "2", "--fail-under", "token_f1=0.99")
    assert failed.exit_code == 1 and "FAIL khabar: token_f1" in failed.output

    settings_mod.configure(data_dir=e2e["root"] / "data", model_cache_dir=e2e["model_cache"])
    compared = runner.invoke(
        app, ["eval", "--compare", str(e2e["out"]), str(out_b), "--out", str(tmp_path / "cmp")]
    )
    assert compared.exit_code == 0, compared.output
    assert "right to wrong: 0" in compared.output and "wrong to right: 0" in compared.output
    comparison = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert comparison["pipelines"][0]["overall"]["hit@5"]["delta"] == 0.0
    assert (tmp_path / "cmp" / "compare.md").is_file()


@pytest.mark.integration
def test_stock_pipeline_builds_once_and_answers_with_its_best_sentence(tmp_path, model_cache):
    from index.chroma import chroma_client
    from khabar import components
    from khabar.eval.stock import StockPipeline

    settings = Settings(data_dir=tmp_path / "data", model_cache_dir=model_cache)
    articles = load_articles([write_jsonl(tmp_path / "articles.jsonl", ARTICLES)])
    first = StockPipeline(settings, top_k=3)
    info = first.build(articles)
    assert info.status == "built" and info.index_chunks == info.chunks_embedded == 4  # short articles
    answer = first.ask("मानसून केरल में कब पहुँचेगा?")
    assert len(answer.passages) == 3 and answer.passages[0].article_id == "hi-monsoon"
    [cited] = answer.citations
    # The anchor quotes one sentence, verbatim from the passage it cites.
    assert cited.sentence in cited.passage and "30 मई" in cited.sentence
    assert answer.text == f"{cited.sentence} [1]"

    assert StockPipeline(settings, top_k=3).build(articles).status == "reused"
    # A build that stopped before its "done" marker is redone from nothing, not half reused.
    chroma_client(components.storage_config(settings).chroma).delete_collection(first.index_name + "-done")
    again = StockPipeline(settings, top_k=3).build(articles)
    assert again.status == "built" and again.index_chunks == 4


def test_top_sentence_is_the_first_quoted_sentence_even_with_initials():
    from khabar.eval.scoring import score_question, top_sentence

    sentence = "समिति का नेतृत्व निकोलस ई. गोलोविन ने किया।"
    p = passage("apollo", sentence + " बाद में समिति भंग हुई।", 1, "hi")
    answer = answered("Who led the committee?", [p], [(0, sentence)])
    # Re-splitting the text would stop at "ई." and lose the name.
    assert top_sentence(answer) == sentence
    q = Question("q", "Who led the committee?", "en", ("निकोलस ई. गोलोविन",), ("apollo",))
    assert score_question(q, answer, "hi")["top_sentence_correct"] is True
    uncited = answered("q", [p], [], text="First one. Second one.")
    assert top_sentence(uncited) == "First one."


def test_a_conversation_is_asked_turn_by_turn_with_its_history_and_scored_per_turn(tmp_path):
    lines = [
        {
            "id": "c1",
            "turns": [
                {
                    "question": "How long is the road?",
                    "language": "en",
                    "answers": ["10.58 kilometres"],
                    "gold_ids": ["a1"],
                },
                {
                    "question": "Who was player of the match?",
                    "language": "en",
                    "answers": ["Dhruv Jurel"],
                    "gold_ids": ["a2"],
                },
                {
                    "question": "What is a waffle?",
                    "language": "en",
                    "answers": [],
                    "gold_ids": [],
                    "answerable": False,
                },
            ],
        },
        {
            "id": "q4",
            "question": "कितनी किताबें हैं?",
            "language": "hi",
            "answers": ["दो लाख"],
            "gold_ids": ["h2"],
        },
    ]
    path = tmp_path / "conversations.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    questions = load_questions(path)
    assert [q.id for q in questions] == ["c1#1", "c1#2", "c1#3", "q4"]
    assert [q.history for q in questions] == [
        (),
        ("How long is the road?",),
        ("How long is the road?", "Who was player of the match?"),
        (),
    ]
    assert [q.turn for q in questions] == [1, 2, 3, None]

    pipeline = ScriptedPipeline("khabar", fix_q4(script_a()))
    report = run_eval(
        questions,
        fake_articles(),
        [pipeline],
        name="conv",
        top_k=10,
        questions_file=SourceFile(str(path), "2" * 64, len(questions)),
    )
    assert pipeline.histories[1:] == [list(q.history) for q in questions]  # after the warm-up
    result = report["pipelines"]["khabar"]
    assert [(r.get("conversation"), r.get("turn")) for r in result["questions"]] == [
        ("c1", 1),
        ("c1", 2),
        ("c1", 3),
        (None, None),
    ]
    metrics = result["metrics"]
    # Turn 1 right; turn 2 quotes the wrong sentence; turn 3 declined rightly.
    assert metrics["by_turn"]["first"]["answer_accuracy"] == 1.0
    assert metrics["by_turn"]["follow_up"]["answer_accuracy"] == 0.0
    assert metrics["by_turn"]["follow_up"]["declined_unanswerable"] == 1.0
    assert metrics["conversations"] == {"count": 1, "all_turns_right": 0.0}
    assert "Conversations: first turns and follow-ups" in render_markdown(report)


def test_a_conversation_line_with_a_bad_turn_names_the_turn(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "c9", "turns": [{"question": "Why?", "language": "en"}]}), "utf-8")
    with pytest.raises(EvalDataError, match="turn 1"):
        load_questions(path)
