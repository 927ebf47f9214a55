"""The ``khabar`` command line, driven in-process through typer's CliRunner (the session's model
is shared through KHABAR_MODEL_CACHE_DIR, so it is not loaded again)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index.chroma import chroma_client, open_stores
from index.lexical import LexicalIndex
from index.records import Article, Chunk
from ingest.sources.dispatch import read_file
from khabar import components
from khabar import settings as settings_mod
from khabar.cli import app
from khabar.settings import Settings
from tests.factories import within

pytestmark = pytest.mark.integration  # the real bundled model (its tokenizer at least)

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
ARTICLE_ID = "putin-kim-invitation-hi.txt"


@pytest.fixture
def cli(monkeypatch, tmp_path, model_cache, embed_model):
    """invoke(*args) -> Result, isolated: its own working directory (no .env), the session model."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith(settings_mod.ENV_PREFIX)]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KHABAR_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("COLUMNS", "250")  # rich tables unwrapped
    settings_mod.reset()
    assert components.embedder(settings_mod.get_settings()) is embed_model  # the model is not loaded again
    runner = CliRunner()

    def invoke(*args: str):
        settings_mod.reset()  # every invocation is a fresh process as far as settings go
        return runner.invoke(app, list(args), catch_exceptions=False)

    yield invoke
    settings_mod.reset()


def config_rows(output: str) -> dict[str, str]:
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) >= 4 and cells[1]:
            rows[cells[1]] = " | ".join(cells[2:4])
    return rows


def test_config_shows_values_and_where_they_came_from(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("KHABAR_TOP_K", "7")
    result = cli("--index", "from-cli", "config")
    assert result.exit_code == 0, result.output
    rows = config_rows(result.stdout)
    assert rows["top_k"] == "7 | environment (KHABAR_TOP_K)"
    assert rows["index_name"] == "from-cli | command line"
    assert rows["chunk_tokens"] == "220 | default"
    assert rows["model_cache_dir"].endswith("| environment (KHABAR_MODEL_CACHE_DIR)")
    # A .env file in the working directory is a layer of its own.
    (tmp_path / ".env").write_text("KHABAR_ANSWER_SENTENCES=2\n")
    rows = config_rows(cli("config").stdout)
    assert rows["answer_sentences"] == "2 | .env (KHABAR_ANSWER_SENTENCES)"
    assert rows["index_name"] == "news | default"


def test_invalid_setting_is_refused(cli):
    result = cli("--index", "bad/name!", "--chroma-mode", "ftp", "config")
    assert result.exit_code == 2
    assert "Invalid setting" in result.stderr


def test_ingest_exit_status_is_non_zero_when_something_was_skipped(cli, tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "good.txt").write_text("Budget passed\nThe council approved the budget on Monday.")
    (news / "broken.json").write_text('{"title": "cut short', encoding="utf-8")
    data = tmp_path / "data"

    result = cli("--data-dir", str(data), "ingest", str(news))
    assert result.exit_code == 1
    assert "1 added" in result.stdout
    assert "broken.json" in result.stderr and "not valid JSON" in result.stderr and "Fix:" in result.stderr

    (news / "broken.json").unlink()
    result = cli("--data-dir", str(data), "ingest", str(news), "--prune")
    assert result.exit_code == 0, result.stderr
    assert "0 added" in result.stdout and "1 unchanged" in result.stdout
    assert (data / "chroma").is_dir() and (data / "indexes" / "news" / "manifest.sqlite").is_file()

    (news / "good.txt").unlink()
    result = cli("--data-dir", str(data), "ingest", str(news), "--prune")
    assert result.exit_code == 0, result.stderr
    assert "1 removed" in result.stdout


def test_ingest_reports_special_files_links_out_and_oversized_files(cli, tmp_path, monkeypatch):
    """A named pipe used to hang `khabar ingest`, a link to /dev/zero to fill the memory, a link to
    a file outside the folder to have it quoted: each is now one problem line, the good articles
    are ingested, the summary is printed and the exit status is 1."""
    news = tmp_path / "news"
    news.mkdir()
    (news / "good.txt").write_text("Budget passed\nThe council approved the budget on Monday.")
    (news / "rain.md").write_text("# Rain\n\nHeavy rain closed schools in Mumbai on Tuesday.")
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    os.mkfifo(news / "pipe.txt")
    (news / "zero.txt").symlink_to("/dev/zero")
    (news / "passwd.txt").symlink_to(secret)
    (news / "big.txt").write_text("Big story\n" + "The budget grew again this year. " * 20)
    monkeypatch.setenv("KHABAR_MAX_FILE_BYTES", "300")

    result = within(120, lambda: cli("--data-dir", str(tmp_path / "data"), "ingest", str(news)))
    assert result.exit_code == 1
    assert "2 added" in result.stdout
    lines = [line for line in result.stderr.splitlines() if "skipped" in line]
    for name, reason in [
        ("pipe.txt", "it is a named pipe, not a regular file"),
        ("zero.txt", "it is a link to /dev/zero, outside the folder being ingested"),
        ("passwd.txt", f"it is a link to {secret}, outside the folder being ingested"),
        ("big.txt", "it is over the limit of 300 bytes a file"),
    ]:
        [line] = [line for line in lines if f"{name}:" in line]
        assert reason in line and "Fix:" in line, line
    assert len(lines) == 4


def test_ingest_a_missing_path_fails(cli, tmp_path):
    result = cli("--data-dir", str(tmp_path / "data"), "ingest", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr


def test_ask_json_is_a_stable_document_with_exact_spans(cli, tmp_path):
    data = str(tmp_path / "data")
    assert cli("--data-dir", data, "ingest", str(CORPUS)).exit_code == 0

    result = cli("--data-dir", data, "ask", "--json", "What did the US State Department warn?")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["declined"] is False and doc["text"]
    (article,) = read_file(CORPUS / ARTICLE_ID, CORPUS).articles
    first = doc["citations"][0]
    assert first["marker"] == 1
    assert "अमेरिकी विदेश विभाग" in first["sentence"] and "प्रतिबंध" in first["sentence"]
    for c in doc["citations"]:
        assert c["article_id"] == ARTICLE_ID
        assert c["chunk_id"].startswith(article.content_hash[:16] + ":")
        assert article.text[c["start"] : c["end"]] == c["sentence"]
        assert c["passage"][c["highlight"][0] : c["highlight"][1]] == c["sentence"]
        assert isinstance(c["score"], float)
        assert f"[{c['marker']}]" in doc["text"]

    result = cli("--data-dir", data, "ask", "--json", "What is the recipe for chocolate cake?")
    declined = json.loads(result.stdout)
    assert declined["declined"] is True and declined["citations"] == []


def test_ingest_verify_repairs_a_damaged_store(cli, tmp_path, embed_model):
    """Damage the manifest cannot see: an article's sentences gone from Chroma, a chunk and a BM25
    row that belong to no article. Ingesting again calls everything unchanged; --verify repairs."""
    data = tmp_path / "data"
    assert cli("--data-dir", str(data), "ingest", str(CORPUS)).exit_code == 0
    (article,) = read_file(CORPUS / ARTICLE_ID, CORPUS).articles
    question = "What did the US State Department warn?"
    settings = Settings(data_dir=data)
    h = article.content_hash
    with components.open_index(settings) as index:
        want_sentences = {(start, end) for _, start, end in index.sentences([h])[h].rows}
        want_chunks = set(index.survey()[h].chunks)
    assert want_sentences and want_chunks

    stores = open_stores(chroma_client(components.storage_config(settings).chroma), "news", 500)
    stores.sentence_collection.delete(where={"content_hash": h})
    ghost = Article(id="ghost.txt", title="Chocolate cake", text="Bake the cake for forty minutes.")
    ghost_chunk = Chunk(f"{ghost.content_hash[:16]}:0", 0, 0, len(ghost.text), ghost.text)
    with components.open_index(settings) as index:
        index.write(ghost, [ghost_chunk], [embed_model.embed_passages([ghost.text])[0]], [], [])
    with LexicalIndex(components.index_path(settings)) as lexical:
        lexical.add("f" * 64, [("ffffffffffffffff:0", "a stray BM25 row", {"article_id": "stray"})])

    again = cli("--data-dir", str(data), "ingest", str(CORPUS))
    assert again.exit_code == 0 and "1 unchanged" in again.stdout  # nothing noticed, nothing repaired

    result = cli("--data-dir", str(data), "ingest", "--verify", str(CORPUS))
    assert result.exit_code == 0, result.output
    report = " ".join(result.stdout.split())
    assert "Verified 3 stored article(s); 3 problem(s):" in report
    n = len(want_chunks)
    assert f"{ARTICLE_ID}: sentences missing for {n} of its {n} chunk(s)" in report
    assert "removed, and stored again from its file by this run" in report
    assert "ghost.txt: stored, but no article holds it (1 chunk(s), 0 sentence(s), 1 BM25 row(s))" in report
    assert (
        "ffffffffffffffff: stored, but no article holds it (0 chunk(s), 0 sentence(s), 1 BM25 row(s))"
        in report
    )
    assert "0 added, 1 updated, 0 unchanged" in report

    with components.open_index(settings) as index:
        survey = index.survey()
        assert set(survey) == {h}  # no orphan left in any store
        stored = index.sentences([h])[h]
        assert {(start, end) for _, start, end in stored.rows} == want_sentences
        assert len(stored.vectors) == len(want_sentences)
        assert set(survey[h].chunks) == survey[h].lexical == want_chunks
    answer = json.loads(cli("--data-dir", str(data), "ask", "--json", question).stdout)
    assert not answer["declined"] and answer["citations"][0]["article_id"] == ARTICLE_ID
    # Checked again: nothing left to repair.
    clean = cli("--data-dir", str(data), "ingest", "--verify")
    assert clean.exit_code == 0 and "Verified 1 stored article(s): nothing to repair." in clean.stdout


def test_ask_on_an_empty_index_says_so(cli, tmp_path):
    result = cli("--data-dir", str(tmp_path / "data"), "ask", "--json", "Anything?")
    assert "index is empty" in result.stderr
    assert json.loads(result.stdout)["declined"] is True


@pytest.mark.parametrize("question", ["", "   ", "\u200b\u200c\u200d\ufeff"])
def test_an_empty_question_is_a_usage_error_not_a_traceback(cli, tmp_path, question):
    result = cli("--data-dir", str(tmp_path / "data"), "ask", question)
    assert result.exit_code == 2
    assert result.stderr.strip() == "The question is empty."
    assert "Traceback" not in result.output


def test_chat_says_an_invisible_question_is_empty_and_goes_on(cli, tmp_path, monkeypatch):
    from khabar import cli as cli_mod

    lines = iter(["\u200b\u200d", ""])
    monkeypatch.setattr(cli_mod.console, "input", lambda prompt="": next(lines))
    result = cli("--data-dir", str(tmp_path / "data"), "chat")
    assert result.exit_code == 0, result.output
    assert "The question is empty." in result.stderr
    assert next(lines, "all read") == "all read"  # it went on to the next line


def test_a_malformed_date_filter_is_refused_not_ignored(cli):
    # The CLI and the web share one date parser (SearchFilters.parse); the CLI used to accept
    # "2023/09/01" and silently search without the filter.
    result = cli("ask", "What did the US State Department warn?", "--from", "2023/09/01")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output and "2023/09/01" in result.output
    reversed_range = cli("ask", "anything", "--from", "2023-09-30", "--to", "2023-09-01")
    assert reversed_range.exit_code == 2
    assert "after the 'to' date" in reversed_range.output


@pytest.fixture
def launched(monkeypatch) -> list[tuple[str, int]]:
    """``khabar serve`` with launching replaced by noting where it would listen."""
    import khabar.web.serve as serve_mod

    seen: list[tuple[str, int]] = []

    def launch(settings, host, port, refresh_every=None):
        seen.append((host, port))

    monkeypatch.setattr(serve_mod, "launch", launch)
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_serve_listens_where_the_options_settings_or_gradio_variables_say(cli, launched, monkeypatch):
    monkeypatch.delitem(sys.modules, "app", raising=False)
    assert cli("serve").exit_code == 0
    monkeypatch.setenv("KHABAR_SERVE_PORT", "8080")
    assert cli("serve").exit_code == 0
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert cli("serve").exit_code == 0
    assert cli("serve", "--host", "127.0.0.2", "--port", "9000").exit_code == 0
    assert launched == [
        ("127.0.0.1", 7860),
        ("127.0.0.1", 8080),
        ("0.0.0.0", 8080),
        ("127.0.0.2", 9000),
    ]
    assert "app" not in sys.modules  # the CLI serves khabar.web, not the top-level app.py


def test_serve_refuses_a_bad_gradio_port_before_loading_anything(cli, launched, monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_PORT", "http")
    result = cli("serve")
    assert result.exit_code == 2 and "GRADIO_SERVER_PORT" in result.stderr
    assert launched == []


def test_serve_refuses_generated_answers_without_a_model_before_ingesting(
    cli, launched, monkeypatch, tmp_path
):
    monkeypatch.setenv("KHABAR_ANSWERER", "generated")
    data = tmp_path / "data"
    result = cli("--data-dir", str(data), "serve", "--ingest", str(CORPUS))
    assert result.exit_code == 2 and "KHABAR_LLM_BASE_URL" in result.stderr
    assert launched == [] and not data.exists()  # nothing ingested, nothing served


def test_serve_no_uploads_turns_the_upload_tab_off(cli, monkeypatch):
    """``--no-uploads`` / ``--uploads`` set KHABAR_WEB_UPLOADS for the served chat, over the
    environment; what the setting does to the page is tests/test_web_handlers.py's."""
    import khabar.web.serve as serve_mod

    seen: list[bool] = []
    monkeypatch.setattr(serve_mod, "launch", lambda settings, **_: seen.append(settings.web_uploads))
    assert cli("serve").exit_code == 0
    assert cli("serve", "--no-uploads").exit_code == 0
    monkeypatch.setenv("KHABAR_WEB_UPLOADS", "false")
    assert cli("serve").exit_code == 0
    assert cli("serve", "--uploads").exit_code == 0
    assert seen == [True, False, False, True]


def test_problem_lines_show_file_names_as_written_one_line_each(monkeypatch, capsys):
    """File names and record ids are the user's text, not markup: "[/red]" in a name used to end
    the report with a MarkupError (the other problems unprinted), "[bold]" vanished from the line
    meant to name the file, and a newline or escape sequence in a name split or coloured it."""
    from ingest.errors import ReadError
    from ingest.pipeline import FileResult, IngestReport
    from khabar import cli as cli_mod

    monkeypatch.setenv("COLUMNS", "500")
    names = ["/news/[/red]bad.json", "/news/[bold]b.json", "/news/a\nb.json", "/news/\x1b[31mred.txt"]
    report = IngestReport(
        files=[
            FileResult(name, "skipped", problems=[ReadError(name, "it is [broken]", "fix [it]")])
            for name in names
        ]
        + [FileResult("/news/r.json", "partial", notes=["[/dim]x: same text as [y]; stored once"])]
    )
    cli_mod.print_ingest_report(report)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if "skipped" in line]
    assert len(lines) == len(names)
    assert lines[0] == "  skipped /news/[/red]bad.json: it is [broken]. Fix: fix [it]"
    assert lines[1].startswith("  skipped /news/[bold]b.json: ")
    assert lines[2].startswith("  skipped /news/a\\nb.json: ")
    assert lines[3].startswith("  skipped /news/\\x1b[31mred.txt: ") and "\x1b" not in err
    assert "[/dim]x: same text as [y]; stored once" in out


GOOD_REPLY = (
    "The US State Department said the Biden administration will not hesitate to impose additional "
    "sanctions on Moscow and North Korea if there is a new arms deal [1]."
)


def test_ask_generated_without_a_model_is_a_usage_error_naming_the_settings(cli, tmp_path):
    result = cli("--data-dir", str(tmp_path / "data"), "ask", "--answerer", "generated", "Who won?")
    assert result.exit_code == 2
    assert "KHABAR_LLM_BASE_URL" in result.stderr and "KHABAR_LLM_GGUF" in result.stderr
    result = cli("--data-dir", str(tmp_path / "data"), "ask", "--answerer", "poem", "Who won?")
    assert result.exit_code == 2 and "'extractive' or 'generated'" in result.stderr


def test_ask_and_chat_stream_a_verified_answer_from_an_endpoint_and_fall_back(cli, tmp_path, monkeypatch):
    from khabar import cli as cli_mod
    from tests.llm_fakes import ChatServer

    data = str(tmp_path / "data")
    assert cli("--data-dir", data, "ingest", str(CORPUS)).exit_code == 0
    server = ChatServer()
    try:
        monkeypatch.setenv("KHABAR_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("KHABAR_LLM_MAX_RETRIES", "0")
        config = config_rows(cli("config").stdout)
        assert config["llm_base_url"].startswith(server.base_url)
        assert config["llm_api_key"].startswith("(not set)")
        server.reply(GOOD_REPLY)
        result = cli(
            "--data-dir", data, "ask", "--answerer", "generated", "What did the US State Department warn?"
        )
        assert result.exit_code == 0, result.stderr
        assert "Written by the language model" in result.stdout
        assert "Biden administration" in result.stdout and "प्रतिबंध" in result.stdout  # answer, Hindi source

        server.status(503, "overloaded")
        result = cli(
            "--data-dir",
            data,
            "ask",
            "--json",
            "--answerer",
            "generated",
            "What did the US State Department warn?",
        )
        doc = json.loads(result.stdout)
        assert doc["answerer"] == "extractive" and "HTTP 503" in doc["verification"]["fallback"]
        assert "प्रतिबंध" in doc["citations"][0]["sentence"]

        # The chat passes the conversation on: the follow-up is condensed by the model first.
        server.reply("What did the US State Department warn about the arms deal?")
        lines = iter(["What did the US State Department warn?", "And about the arms deal?", ""])
        monkeypatch.setattr(cli_mod.console, "input", lambda prompt="": next(lines))
        monkeypatch.setenv("KHABAR_ANSWERER", "generated")
        result = cli("--data-dir", data, "chat")
        assert result.exit_code == 0, result.output
        condense = [r for r in server.requests if "Earlier questions" in r["messages"][-1]["content"]]
        assert (
            len(condense) == 1
            and "What did the US State Department warn?" in condense[0]["messages"][-1]["content"]
        )
    finally:
        server.close()
