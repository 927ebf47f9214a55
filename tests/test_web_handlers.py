"""The chat's handlers driven directly, with a fake service and a fake ingest: no model, no
Chroma, no browser. What Gradio does with the yielded values is the browser tests' business."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from gradio.helpers import special_args
from markdown_it import MarkdownIt

from index.lock import IndexBusy
from ingest.pipeline import FileResult, IngestReport, Progress
from khabar.web.answerers import AnswererChoice, answerer_choice
from khabar.web.backend import Backend
from khabar.web.collection import Facets
from khabar.web.handlers import ChatHandlers, Turn
from khabar.web.render import answer_markdown
from khabar.web.stream import answer_events
from khabar.web.ui import build
from rag.types import Answer, Citation, ClaimCheck, Verification

PASSAGE = "The council met on Monday. It approved the budget for 2024. Protests followed."
SENTENCE = "It approved the budget for 2024."
NO_FILTERS = ([], [], "", "")  # languages, sources, date_from, date_to as the form sends them


def make_answer(question: str) -> Answer:
    start = PASSAGE.index(SENTENCE)
    cite = Citation(
        marker=1,
        article_id="council.txt",
        chunk_id="c1:0",
        title="Council <b>budget</b>",
        source="Wire",
        published="2024-01-02",
        url="",
        language="en",
        sentence=SENTENCE,
        start=start,
        end=start + len(SENTENCE),
        passage=PASSAGE,
        passage_start=0,
        passage_end=len(PASSAGE),
        highlight=(start, start + len(SENTENCE)),
        score=0.9,
    )
    return Answer(question, f"{SENTENCE} [1]", [cite], declined=False)


class FakeService:
    """Streams two pieces and then the answer; records what it was asked."""

    def __init__(self, fail: Exception | None = None):
        self.calls: list[tuple[str, Any, list[str]]] = []
        self.fail = fail

    def ask_stream(self, question, filters, history):
        self.calls.append((question, filters, list(history)))
        if self.fail is not None:
            raise self.fail
        yield "It approved "
        yield "the budget."
        yield make_answer(question)


class FakeIngest:
    def __init__(self):
        self.calls: list[list[Path]] = []

    def __call__(self, paths, progress, stop) -> IngestReport:
        """One article a file; stops like the Ingestor, asking ``stop`` before each one."""
        self.calls.append(list(paths))
        self.before_each: list = getattr(self, "before_each", [])
        report = IngestReport()
        for done, path in enumerate(paths, 1):
            for hook in self.before_each:
                hook(done)
            if stop():
                report.cancelled = True
                break
            report.files.append(FileResult(str(path), "ingested", articles=1, chunks=2))
            report.added += 1
            progress(Progress(len(paths), done, done, 2 * done, str(path)))
        return report


@pytest.fixture
def facets() -> list[Facets]:
    """What the fake collection holds; a test appends to it to 'change' the collection."""
    return [Facets(languages=["en"], articles=1, chunks=3)]


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def ingest() -> FakeIngest:
    return FakeIngest()


@pytest.fixture
def handlers(tmp_path, service, ingest, facets) -> ChatHandlers:
    backend = Backend(
        service,
        ingest,
        lambda: facets[-1],
        data_dir=tmp_path / "data",
        index_name="news",
        max_upload_bytes=1_000,
        max_file_bytes=600,
    )
    return ChatHandlers(backend)


def run(handlers: ChatHandlers, message: str, chat=None, turns=None, filters=NO_FILTERS) -> list[tuple]:
    """Every update, each with the chat as it was then (a streamed answer replaces the last message)."""
    return [
        (box, list(messages), ts, panel)
        for box, messages, ts, panel in handlers.respond(message, chat or [], turns or [], *filters)
    ]


def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


# --- asking -----------------------------------------------------------------------------------


def test_empty_message_yields_nothing_new(handlers, service):
    chat = [{"role": "user", "content": "earlier"}]
    turns = [Turn("earlier", None, 1, "khabar-t1")]
    updates = run(handlers, " \n\t ", chat, turns)
    assert updates == [("", chat, turns, gr.skip())]
    assert service.calls == []


@pytest.mark.parametrize("message", ["\u200b", " \u200c\u200d ", "\ufeff\u200b\n"])
def test_a_message_of_zero_width_characters_is_blank(handlers, service, message):
    chat = [{"role": "user", "content": "earlier"}]
    turns = [Turn("earlier", None, 1, "khabar-t1")]
    assert run(handlers, message, chat, turns) == [("", chat, turns, gr.skip())]
    assert service.calls == []


def test_malformed_date_answers_with_the_filter_error_and_never_asks(handlers, service):
    updates = run(handlers, "What did the council approve?", filters=([], [], "2024-1-2", ""))
    assert len(updates) == 1
    box, chat, turns, panel = updates[0]
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "(YYYY-MM-DD), not '2024-1-2'" in unescaped(chat[-1]["content"])
    assert "<h3>Filters</h3>" in panel and "YYYY-MM-DD" in panel
    assert len(turns) == 1 and turns[0].answer is None  # remembered, but unanswered
    assert service.calls == []


def test_answer_streams_then_shows_the_sources(handlers, service):
    updates = run(handlers, "  What did   the council approve? ")
    assert service.calls[0][0] == "What did the council approve?"  # whitespace collapsed
    assert [u[3] == gr.skip() for u in updates] == [False, True, True, False]
    assert "Searching" in updates[0][1][-1]["content"] and "Searching" in updates[0][3]
    assert unescaped(updates[1][1][-1]["content"]).startswith("It approved")
    assert unescaped(updates[2][1][-1]["content"]).startswith("It approved the budget.")
    _, chat, turns, panel = updates[-1]
    assert "](#khabar-t1-src-1" in chat[-1]["content"]  # the marker links to its source
    assert 'id="khabar-t1-src-1"' in panel and "Council &lt;b&gt;budget&lt;/b&gt;" in panel
    assert turns[0].answer is not None and turns[0].message_index == 1


def test_a_failing_service_says_so_instead_of_searching_forever(handlers):
    handlers.backend.service = FakeService(fail=RuntimeError("the index is gone"))
    _, chat, turns, panel = run(handlers, "What did the council approve?")[-1]
    assert unescaped(chat[-1]["content"]) == "Answering failed: RuntimeError: the index is gone"
    assert "Answering failed: RuntimeError: the index is gone" in panel and "Searching" not in panel
    assert turns[0].answer is None


def test_follow_up_passes_the_earlier_questions_as_history(handlers, service):
    _, chat, turns, _ = run(handlers, "What did the council approve?")[-1]
    _, chat, turns, _ = run(handlers, "When?", chat, turns)[-1]
    _, chat, turns, _ = run(handlers, "Who protested?", chat, turns)[-1]
    assert [c[2] for c in service.calls] == [
        [],
        ["What did the council approve?"],
        ["What did the council approve?", "When?"],
    ]
    assert [t.id_prefix for t in turns] == ["khabar-t1", "khabar-t2", "khabar-t3"]
    assert [t.message_index for t in turns] == [1, 3, 5]  # each answer's place in the chat
    assert len(chat) == 6


def test_example_click_asks_the_example(handlers, service):
    evt = SimpleNamespace(value={"text": "What did Kim promise Russia?"})
    updates = list(handlers.respond_example(evt, [], [], *NO_FILTERS))
    assert service.calls[0][0] == "What did Kim promise Russia?"
    assert updates[-1][2][0].answer is not None


# --- revisiting, starting over, voting --------------------------------------------------------


def test_clicking_an_earlier_turn_shows_its_sources(handlers):
    _, chat, turns, _ = run(handlers, "first?")[-1]
    _, chat, turns, _ = run(handlers, "second?", chat, turns)[-1]
    for index in (0, 1, [1, 0]):  # the question or the answer of turn 1
        shown = handlers.show_turn(SimpleNamespace(index=index), turns)
        assert 'id="khabar-t1-src-1"' in shown
    assert 'id="khabar-t2-src-1"' in handlers.show_turn(SimpleNamespace(index=3), turns)
    assert handlers.show_turn(SimpleNamespace(index=9), turns) == gr.skip()


def test_new_chat_starts_over_with_the_intro(handlers):
    chat, turns, panel, box = handlers.new_chat()
    assert (chat, turns, box) == ([], [], "")
    assert "Ask a question" in panel  # the collection is not empty


def test_vote_writes_a_feedback_line_for_the_voted_turn(handlers):
    _, chat, turns, _ = run(handlers, "first?")[-1]
    _, chat, turns, _ = run(handlers, "second?", chat, turns)[-1]
    path = handlers.backend.feedback_path
    handlers.vote(SimpleNamespace(index=[3, 0], liked=False), turns)
    handlers.vote(SimpleNamespace(index=1, liked=True), turns)
    handlers.vote(SimpleNamespace(index=2, liked=True), turns)  # a question, not an answer: ignored
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["question"], r["vote"]) for r in records] == [("second?", -1), ("first?", 1)]
    assert records[0]["index"] == "news"
    assert records[0]["citations"][0]["chunk_id"] == "c1:0"


def test_vote_on_an_unanswered_turn_writes_nothing(handlers):
    _, _, turns, _ = run(handlers, "q?", filters=([], [], "yesterday", ""))[-1]
    handlers.vote(SimpleNamespace(index=turns[0].message_index, liked=True), turns)
    assert not handlers.backend.feedback_path.exists()


# --- adding articles --------------------------------------------------------------------------


def test_add_articles_without_files_asks_for_them(handlers, ingest):
    for nothing in (None, []):
        status, *rest = handlers.add_articles(nothing)
        assert "Choose one or more files first." in status
        assert rest == [gr.skip()] * 5
    assert ingest.calls == []


def test_add_articles_ingests_the_saved_copies_and_refreshes_the_filters(handlers, ingest, facets, tmp_path):
    upload = tmp_path / "gradio-tmp" / "story.txt"
    upload.parent.mkdir()
    upload.write_text("Budget passed\nThe council approved the budget.", encoding="utf-8")
    facets.append(Facets(languages=["en", "ta"], sources=["Wire"], first_date="2024-01-02", articles=2))
    seen: list[tuple] = []
    status, table, langs, sources, date_row, header = handlers.add_articles(
        [str(upload)], progress=lambda *a, **kw: seen.append((a, kw))
    )
    saved = handlers.backend.uploads_dir / "story.txt"
    assert ingest.calls == [[saved]] and saved.read_text(encoding="utf-8").startswith("Budget")
    assert "<h3>Added</h3>" in status and "1 added" in status
    assert table["value"] == [["story.txt", "ingested", 1, 2, "", ""]] and table["visible"]
    assert sources == gr.update(choices=["Wire"], visible=True) and date_row == gr.update(visible=True)
    assert [code for _, code in langs["choices"]] == ["en", "hi", "ta"]
    assert "Collection: 2 article(s)" in header  # the header read the refreshed facets
    assert handlers.backend.facets is facets[-1]
    assert [a[0] for a, _ in seen] == [(0, 1), (1, 1)]  # start, then the fake's one file


def test_an_upload_while_another_ingest_holds_the_index_says_so(handlers, tmp_path):
    """The upload waits for another process's ingest of the index (told in the progress line) and,
    when that takes longer than the write-lock timeout, says what happened instead of failing."""
    lock = tmp_path / "data" / "indexes" / "news" / "write.lock"

    def busy(paths, progress, stop):
        progress(Progress(0, waiting="Waiting for another ingest of index 'news' to finish"))
        raise IndexBusy("news", lock, 0.5)

    handlers.backend.ingest = busy
    upload = tmp_path / "story.txt"
    upload.write_text("Budget passed\nThe council approved the budget.", encoding="utf-8")
    seen: list[dict] = []
    status, *rest = handlers.add_articles([str(upload)], progress=lambda *a, **kw: seen.append(kw))
    assert seen[-1]["desc"] == "Waiting for another ingest of index 'news' to finish"
    assert "<h3>Not added</h3>" in status and str(lock) in status and "Let that process finish" in status
    assert rest == [gr.skip()] * 5


def uploads(tmp_path: Path, *sizes: int) -> list[str]:
    folder = tmp_path / "gradio-tmp"
    folder.mkdir(exist_ok=True)
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"story{i}.txt"
        path.write_text("Budget passed\n" + "x" * (size - 14), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_an_upload_over_the_total_limit_is_refused_with_the_limit_before_anything_is_read(
    handlers, ingest, tmp_path
):
    status, *rest = handlers.add_articles(uploads(tmp_path, 500, 400, 300))  # 1,200 > 1,000 bytes
    assert "<h3>Not added</h3>" in status
    assert "1,200 bytes in 3 files" in status and "1,000 bytes an upload" in status
    assert "KHABAR_MAX_UPLOAD_BYTES" in status and rest == [gr.skip()] * 5
    assert ingest.calls == [] and not handlers.backend.uploads_dir.exists()


def test_a_file_over_the_file_limit_is_refused_by_name(handlers, ingest, tmp_path):
    status, *_ = handlers.add_articles(uploads(tmp_path, 100, 700))
    assert "story1.txt is 700 bytes, over the limit of 600 bytes a file" in status
    assert "KHABAR_MAX_FILE_BYTES" in status and ingest.calls == []


def test_an_upload_within_the_limits_is_added(handlers, ingest, tmp_path):
    status, *_ = handlers.add_articles(uploads(tmp_path, 500, 500))  # exactly the limit
    assert "<h3>Added</h3>" in status and len(ingest.calls) == 1


def test_cancel_stops_the_upload_and_says_what_was_added(handlers, ingest, tmp_path):
    assert "Nothing is being added." in handlers.cancel_add()
    said: list[str] = []
    # The cancel button pressed while the second file is being read.
    ingest.before_each = [lambda n: said.append(handlers.cancel_add()) if n == 2 else None]
    status, table, *_ = handlers.add_articles(uploads(tmp_path, 100, 100, 100))
    assert "Stopping after the article being stored" in said[0]
    assert "<h3>Cancelled</h3>" in status and "1 added" in status and "not read" in status
    assert [row[0] for row in table["value"]] == ["story0.txt"]
    # The next upload is not cancelled by the earlier press.
    status, *_ = handlers.add_articles(uploads(tmp_path, 100))
    assert "<h3>Added</h3>" in status


def test_with_uploads_off_an_upload_is_refused_and_nothing_is_saved_or_read(handlers, ingest, tmp_path):
    """A reader host (KHABAR_WEB_UPLOADS off) builds no upload tab; a call through the API anyway
    is refused with the reason, before anything is copied or ingested."""
    handlers.backend.uploads = False
    status, *rest = handlers.add_articles(uploads(tmp_path, 100))
    assert "<h3>Not added</h3>" in status and "KHABAR_WEB_UPLOADS" in status and "khabar ingest" in status
    assert rest == [gr.skip()] * 5
    assert ingest.calls == [] and not handlers.backend.uploads_dir.exists()


UPLOAD_PARTS = {"khabar-upload", "khabar-add", "khabar-cancel", "add_articles", "cancel_add"}


def page_parts(backend: Backend) -> set[str]:
    """The elem_ids of the built page's components and the names of the functions it wires."""
    with build(backend) as demo:
        ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
        return {i for i in ids if i} | {getattr(f.fn, "__name__", "") for f in demo.fns.values()}


def test_with_uploads_off_the_page_has_no_upload_tab_and_the_settings_say_so(handlers, monkeypatch):
    from khabar import components
    from khabar.settings import Settings
    from khabar.web import backend as backend_mod

    assert UPLOAD_PARTS <= page_parts(handlers.backend)
    handlers.backend.uploads = False
    parts = page_parts(handlers.backend)
    assert not parts & UPLOAD_PARTS and {"khabar-question", "respond"} <= parts  # the chat stays
    # Backend.from_settings takes the switch from KHABAR_WEB_UPLOADS.
    monkeypatch.setattr(
        components, "service", lambda settings: SimpleNamespace(index=SimpleNamespace(name="n"))
    )
    monkeypatch.setattr(backend_mod, "read_facets", lambda index: Facets())
    made = [Backend.from_settings(Settings(web_uploads=on)).uploads for on in (True, False)]
    assert made == [True, False]


# --- wiring -----------------------------------------------------------------------------------


def test_gradio_finds_the_event_data_and_progress_parameters_of_the_methods(handlers):
    """Gradio resolves a handler's annotations at runtime; one unresolvable name and the event
    data or the progress tracker would silently not be passed."""
    for method in (handlers.respond_example, handlers.show_turn, handlers.vote):
        _, progress_index, event_index, _ = special_args(method)
        assert (progress_index, event_index) == (None, 0), method.__name__
    _, progress_index, event_index, _ = special_args(handlers.add_articles)
    assert (progress_index, event_index) == (1, None)


# --- generated answers: the toggle, the labels, the notes --------------------------------------

MODEL_TEXT = "The council approved the 2024 budget "


def generated_answer(question: str, marker: int = 2, **verification: Any) -> Answer:
    """An English answer written by a model, citing only [``marker``], with its checks."""
    answer = make_answer(question)
    answer.citations[0].marker = marker
    answer.text = f"{MODEL_TEXT}[{marker}]."
    answer.answerer = "generated"
    checks = verification.pop("checks", [ClaimCheck(MODEL_TEXT.strip(), [marker], True, 0.93)])
    answer.verification = Verification(checks, **verification)
    return answer


class GeneratingService(FakeService):
    """A service with a connected model: answers with the answerer it is asked for by name."""

    def __init__(self, answers: dict[str, Any] | None = None, pieces: tuple[str, ...] = ("The council ",)):
        super().__init__()
        model = SimpleNamespace(llm=SimpleNamespace(metadata=SimpleNamespace(model_name="tiny-chat")))
        self.alternatives = {"extractive": object(), "generated": model}
        self.answerer = self.alternatives["extractive"]
        self.answers = answers or {}
        self.pieces = pieces
        self.named: list[str | None] = []

    def ask_stream(self, question, filters, history, answerer=None):
        self.calls.append((question, filters, list(history)))
        self.named.append(answerer)
        yield from self.pieces
        make = self.answers.get(answerer or "extractive", make_answer)
        yield make(question)


def generating(handlers: ChatHandlers, **kwargs: Any) -> GeneratingService:
    service = GeneratingService(**kwargs)
    handlers.backend = Backend(
        service,
        handlers.backend.ingest,
        lambda: Facets(languages=["en"], articles=1, chunks=3),
        data_dir=handlers.backend.data_dir,
        index_name="news",
    )
    return service


def html_of(markdown: str) -> str:
    """The chat message as a Markdown renderer makes it (raw HTML allowed: escaping must hold)."""
    return MarkdownIt("commonmark").render(markdown)


def test_the_toggle_is_offered_only_when_a_model_is_connected(handlers):
    assert answerer_choice(FakeService()) == AnswererChoice()
    assert not AnswererChoice().offered and AnswererChoice().resolve("generated") is None
    choice = answerer_choice(GeneratingService())
    assert choice.offered and choice.default == "extractive" and choice.model == "tiny-chat"
    assert choice.radio_choices() == [
        ("Quoted sentences", "extractive"),
        ("Written by the language model", "generated"),
    ]
    assert (choice.resolve("generated"), choice.resolve("poetry"), choice.resolve(None)) == (
        "generated",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("reported", "shown"),
    [
        ("tiny-chat", "tiny-chat"),
        ("org/tiny-chat-7b", "org/tiny-chat-7b"),
        ("/home/me/models/qwen-1.5b.gguf", "qwen-1.5b.gguf"),
        ("C:\\models\\qwen.gguf", "qwen.gguf"),
        (None, ""),
    ],
)
def test_the_model_is_named_without_this_machines_folders(reported, shown):
    service = GeneratingService()
    service.alternatives["generated"].llm.metadata.model_name = reported
    assert answerer_choice(service).model == shown


def test_the_page_shows_the_toggle_with_the_default_and_asks_with_it(handlers):
    def toggle(backend: Backend) -> gr.Radio:
        with build(backend) as demo:
            radios = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "khabar-answerer"]
            (radio,) = radios
            asking = [
                f
                for f in demo.fns.values()
                if getattr(f.fn, "__name__", "") in ("respond", "respond_example")
            ]
            assert len(asking) == 2 and all(f.inputs[-1] is radio for f in asking)
        return radio

    hidden = toggle(handlers.backend)
    assert not hidden.visible and hidden.value is None
    generating(handlers)
    shown = toggle(handlers.backend)
    assert shown.visible and shown.value == "extractive"


def test_the_toggles_choice_reaches_the_service(handlers):
    service = generating(handlers)
    list(handlers.respond("What did the council approve?", [], [], *NO_FILTERS, "generated"))
    list(handlers.respond("What did the council approve?", [], [], *NO_FILTERS, "extractive"))
    list(handlers.respond("What did the council approve?", [], [], *NO_FILTERS, "poetry"))
    list(handlers.respond("What did the council approve?", [], [], *NO_FILTERS))
    evt = SimpleNamespace(value={"text": "What did Kim promise Russia?"})
    list(handlers.respond_example(evt, [], [], *NO_FILTERS, "generated"))
    assert service.named == ["generated", "extractive", None, None, "generated"]


def test_a_service_without_named_answerers_is_asked_as_before(handlers, service):
    """The hidden toggle still sends its value; a service with no names never gets it."""
    turns = run_with(handlers, "What did the council approve?", "generated")[-1][2]
    assert service.calls[0][0] == "What did the council approve?" and turns[0].answer is not None

    class AskOnly:
        def __init__(self):
            self.asked: list[tuple] = []

        def ask(self, question, filters, history, *named):
            self.asked.append(named)
            return make_answer(question)

    plain = AskOnly()
    assert isinstance(list(answer_events(plain, "q?", None, []))[-1], Answer)
    list(answer_events(plain, "q?", None, [], "generated"))
    assert plain.asked == [(), ("generated",)]


def run_with(handlers: ChatHandlers, message: str, answerer: str | None) -> list[tuple]:
    return [
        (box, list(messages), ts, panel)
        for box, messages, ts, panel in handlers.respond(message, [], [], *NO_FILTERS, answerer)
    ]


def test_a_generated_answer_is_labelled_checked_and_cites_its_sources(handlers):
    generating(handlers, answers={"generated": generated_answer})
    updates = run_with(handlers, "What did the council approve?", "generated")
    assert unescaped(updates[1][1][-1]["content"]).startswith("The council ")  # streamed as written
    _, chat, turns, panel = updates[-1]
    shown = chat[-1]["content"]
    assert unescaped(shown).startswith(MODEL_TEXT)
    assert "](#khabar-t1-src-2" in shown and "src-1" not in shown  # only [2] is cited, and linked
    assert "*Written by the language model \\(tiny\\-chat\\) · every sentence checked" in shown
    assert "left out" not in shown and "not shown" not in shown
    # The sources panel: the cited sentence verbatim, highlighted in its passage, under marker [2].
    assert f'id="khabar-t1-src-2" data-marker="2">{SENTENCE}<sup class="khabar-mark-n">[2]</sup>' in panel
    assert "checked against the sentence it cites" in panel
    assert turns[0].answer.answerer == "generated"


def test_dropped_sentences_are_announced_with_the_reason(handlers):
    checks = [
        ClaimCheck(MODEL_TEXT.strip(), [2], True, 0.93),
        ClaimCheck("The mayor resigned in 1999.", [2], False, 0.41, "number not in the cited passage: 1999"),
    ]
    generating(handlers, answers={"generated": lambda q: generated_answer(q, checks=checks)})
    _, chat, _, _ = run_with(handlers, "What did the council approve?", "generated")[-1]
    shown = unescaped(chat[-1]["content"])
    assert "1 sentence left out: could not be verified — number not in the cited passage: 1999" in shown
    assert "mayor" not in shown  # the unverified sentence itself is not shown
    two = [
        checks[0],
        *[ClaimCheck(f"Claim {i}.", [1], False, 0.2, "closest cited sentence 0.200 < 0.860") for i in (1, 2)],
    ]
    assert (
        unescaped(answer_markdown(generated_answer("q", checks=two), "p")).count("2 sentences left out") == 1
    )
    assert unescaped(answer_markdown(generated_answer("q", checks=two), "p")).count("0.200 < 0.860") == 1


def test_a_fallback_shows_the_quoted_answer_with_the_reason(handlers):
    reason = "the language model at http://127.0.0.1:9/v1 failed: it answered HTTP 500"

    def fell_back(question: str) -> Answer:
        answer = make_answer(question)
        answer.verification = Verification([], fallback=reason)
        return answer

    generating(handlers, answers={"generated": fell_back})
    updates = run_with(handlers, "What did the council approve?", "generated")
    _, chat, turns, panel = updates[-1]
    shown = unescaped(chat[-1]["content"])
    assert shown.startswith(
        f"*The language model's answer was not shown: {reason}. The answer below is quoted"
    )
    assert f"{SENTENCE} [[1]](" in shown and "Written by" not in shown
    assert "](#khabar-t1-src-1" in chat[-1]["content"] and 'id="khabar-t1-src-1"' in panel
    assert "checked against" not in panel and turns[0].answer.answerer == "extractive"


HOSTILE = (
    '<img src=x onerror="alert(1)"> **loud** [click](javascript:alert(1)) $x$ <script>alert(2)</script> '
)


def test_hostile_model_text_is_shown_as_text_while_streaming_and_after(handlers):
    def hostile(question: str) -> Answer:
        answer = generated_answer(question, marker=1)
        answer.text = f"{HOSTILE}[1] [9]"
        answer.verification.checks.append(
            ClaimCheck(HOSTILE, [1], False, 0.1, f"name not in the cited passage: {HOSTILE}")
        )
        return answer

    generating(handlers, answers={"generated": hostile}, pieces=(HOSTILE[:30], HOSTILE[30:]))
    updates = run_with(handlers, "What did the council approve?", "generated")
    for _, chat, _, _ in updates[1:]:
        rendered = html_of(chat[-1]["content"])
        assert "<img" not in rendered and "<script" not in rendered and "<strong>" not in rendered
        assert 'href="javascript' not in rendered and "&lt;img src=x" in rendered
    final = updates[-1][1][-1]["content"]
    assert unescaped(final).count(HOSTILE.strip()) == 2  # the text, and the reason in the note
    assert "[9]" in unescaped(final) and "src-9" not in final  # a number with no citation stays text
