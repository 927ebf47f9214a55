"""The web chat, driven through a real Chromium against the app over the shipped corpus.

One app instance (in a thread of this process, so the embedding model loads once per session)
serves the whole module; each test gets a fresh browser context, that is a fresh chat session.
Tests run in file order: the uploads come after the tests that expect only the shipped corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from khabar import settings as settings_mod
from khabar.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STATE_DEPT_HI = "अमेरिकी विदेश विभाग"
ANSWER_TIMEOUT = 60_000  # ms; the first answer in a session may wait on the model

pytestmark = [
    pytest.mark.browser,
    # Gradio's own queue code trips pandas deprecation notices; they are not ours to fix.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

if os.environ.get("KHABAR_REQUIRE_BROWSER") == "1":
    if not CHROMIUM.exists():
        raise RuntimeError(f"KHABAR_REQUIRE_BROWSER=1 but {CHROMIUM} is absent")
else:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent", allow_module_level=True)
    pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory, model_cache) -> Iterator[dict[str, Any]]:
    """The shipped corpus ingested with the real model, and the app serving it."""
    from khabar import components
    from khabar.web.serve import launch

    data = tmp_path_factory.mktemp("web") / "data"
    settings = Settings(data_dir=data, model_cache_dir=model_cache)
    ingestor = components.ingestor(settings)
    try:
        report = ingestor.ingest([ROOT / "corpus"])
    finally:
        ingestor.close()
    assert report.ok and report.added >= 1
    port = free_port()
    chat = launch(settings, host="127.0.0.1", port=port, block=False)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "settings": settings, "data": data}
    finally:
        chat.close()
        settings_mod.reset()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Session:
    """A fresh browser context on the app, with what it must not do recorded: fetch anything
    from outside localhost (the app must work offline) or open a dialog (injected script)."""

    page: Page
    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def check_and_close(self) -> None:
        assert self.outside == [], f"the page fetched from outside localhost: {self.outside}"
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        self.page.context.close()


def open_session(browser: Browser, url: str, **context_args: Any) -> Session:
    session = Session(browser.new_context(**context_args).new_page())
    local = ("http://127.0.0.1", "data:", "blob:")
    session.page.on("request", lambda r: None if r.url.startswith(local) else session.outside.append(r.url))
    session.page.on("dialog", lambda d: (session.dialogs.append(d.message), d.dismiss()))
    session.page.goto(url, wait_until="load")
    session.page.wait_for_selector("#khabar-question textarea")
    return session


@pytest.fixture
def page(browser: Browser, served) -> Iterator[Page]:
    session = open_session(browser, served["url"], viewport={"width": 1280, "height": 900})
    yield session.page
    session.check_and_close()


def ask(page: Page, question: str, turn: int) -> None:
    """Type the question and press Enter; wait until turn ``turn`` is answered or declined."""
    box = page.locator("#khabar-question textarea")
    box.fill(question)
    box.press("Enter")
    bots = page.locator('#khabar-chat [data-testid="bot"]')
    expect(bots).to_have_count(turn, timeout=ANSWER_TIMEOUT)
    expect(bots.nth(turn - 1)).not_to_contain_text("Searching the articles", timeout=ANSWER_TIMEOUT)


def last_bot(page: Page):
    return page.locator('#khabar-chat [data-testid="bot"]').last


def feedback_lines(data: Path) -> list[dict[str, Any]]:
    path = data / "feedback.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- the chat ---------------------------------------------------------------------------------


def test_example_question_answers_with_the_highlighted_hindi_sentence(page: Page):
    chat = page.locator("#khabar-chat")
    for example in ("What did Kim promise Russia?", "अमेरिकी विदेश विभाग ने क्या चेतावनी दी?"):
        expect(chat).to_contain_text(example)
    expect(page.locator("#khabar-answerer")).to_be_hidden()  # no language model: no choice
    chat.get_by_text("What did the US State Department warn?").click()
    expect(page.locator("#khabar-t1-src-1")).to_be_visible(timeout=ANSWER_TIMEOUT)

    answer = last_bot(page)
    expect(answer).to_contain_text(STATE_DEPT_HI)
    marker = answer.locator('a[href^="#khabar-t1-src-"]').first
    expect(marker).to_have_text("[1]")
    assert "Vladimir Putin North Korea Visit Invitation" in (marker.get_attribute("title") or "")

    marks = page.locator("#khabar-sources mark.khabar-hl")
    assert any(STATE_DEPT_HI in t for t in marks.all_inner_texts())
    sources = page.locator("#khabar-sources")
    expect(sources).to_contain_text("Vladimir Putin North Korea Visit Invitation")
    expect(sources).to_contain_text("Hindi (hi)")
    expect(sources).to_contain_text("putin-kim-invitation-hi.txt")

    marker.click()  # the marker is an anchor to the highlighted sentence
    assert page.url.endswith("#khabar-t1-src-1")
    expect(page.locator("#khabar-t1-src-1")).to_be_in_viewport()

    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "screenshot.png"))
    if os.environ.get("KHABAR_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(out / "screenshot.png", ROOT / "docs" / "screenshot.png")


def test_keyboard_follow_up_and_new_chat(page: Page):
    focused = page.evaluate("document.activeElement?.closest('#khabar-question') !== null")
    assert focused, "the question box should have the focus on load"
    page.keyboard.type("What did the US State Department warn?")
    page.keyboard.press("Enter")
    expect(page.locator("#khabar-t1-src-1")).to_be_visible(timeout=ANSWER_TIMEOUT)

    ask(page, "And what did Kim promise Russia?", turn=2)
    follow_up = last_bot(page)
    expect(follow_up).not_to_contain_text("No answer")
    expect(follow_up).to_contain_text("किम")
    expect(page.locator("#khabar-t2-src-1")).to_be_visible()

    page.locator("#khabar-new").click()
    expect(page.locator('#khabar-chat [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#khabar-chat")).to_contain_text("What did Kim promise Russia?")  # examples again


def test_language_filter_that_excludes_the_article_makes_the_bot_decline(page: Page):
    page.locator("#khabar-filters").get_by_text("Filters").click()
    page.locator("#khabar-lang").get_by_label("English (en)").check()
    ask(page, "What did the US State Department warn?", turn=1)
    expect(last_bot(page)).to_contain_text("No answer")
    expect(page.locator("#khabar-sources")).to_contain_text("No passage matched")
    expect(page.locator("#khabar-sources mark")).to_have_count(0)


def test_thumbs_write_feedback_lines(page: Page, served):
    before = len(feedback_lines(served["data"]))
    ask(page, "What did the US State Department warn?", turn=1)
    last_bot(page)  # answered
    page.locator('#khabar-chat button[aria-label="Like"]').last.click()
    page.locator('#khabar-chat button[aria-label="Dislike"]').last.click()
    deadline = time.monotonic() + 10
    while len(feedback_lines(served["data"])) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    new = feedback_lines(served["data"])[before:]
    assert [line["vote"] for line in new] == [1, -1]
    line = new[0]
    assert line["question"] == "What did the US State Department warn?"
    assert line["index"] == "news" and line["timestamp"]
    assert STATE_DEPT_HI in line["answer"]
    cited = line["citations"][0]
    assert cited["article_id"] == "putin-kim-invitation-hi.txt"
    assert cited["chunk_id"] and cited["sentence"] in line["answer"]
    assert cited["span"][1] - cited["span"][0] == len(cited["sentence"])


def test_phone_width_shows_chat_and_sources_without_sideways_scrolling(browser: Browser, served):
    session = open_session(
        browser, served["url"], viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone = session.page
    try:
        ask(phone, "What did the US State Department warn?", turn=1)
        widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] == 390
        for selector in ("#khabar-chat", "#khabar-question", "#khabar-sources .khabar-source"):
            element = phone.locator(selector).first
            element.scroll_into_view_if_needed()
            expect(element).to_be_visible()
            box = element.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, selector
        expect(phone.locator("#khabar-sources mark").first).to_be_in_viewport()
    finally:
        session.check_and_close()


# --- generated answers, from a local OpenAI-compatible server ---------------------------------

GOOD_ENGLISH = (
    "The US State Department said the Biden administration will not hesitate to impose additional "
    "sanctions on Moscow and North Korea if there is a new arms deal [1]."
)
SANCTIONS_HI = "प्रतिबंध"


@pytest.fixture(scope="module")
def generating(tmp_path_factory, model_cache) -> Iterator[dict[str, Any]]:
    """A second app over the shipped corpus, configured (as a user would, by environment) with a
    language model: a local server whose replies each test sets."""
    from khabar import components
    from khabar.web.serve import launch
    from tests.llm_fakes import ChatServer

    server = ChatServer()
    data = tmp_path_factory.mktemp("generated-web") / "data"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KHABAR_LLM_BASE_URL", server.base_url)
        env.setenv("KHABAR_LLM_MODEL", "scripted")
        env.setenv("KHABAR_LLM_TIMEOUT", "20")
        env.setenv("KHABAR_LLM_MAX_RETRIES", "0")
        settings = Settings(data_dir=data, model_cache_dir=model_cache)
    ingestor = components.ingestor(settings)
    try:
        assert ingestor.ingest([ROOT / "corpus"]).ok
    finally:
        ingestor.close()
    port = free_port()
    chat = launch(settings, host="127.0.0.1", port=port, block=False)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "server": server}
    finally:
        chat.close()
        server.close()
        settings_mod.reset()


def test_generated_answer_is_shown_checked_and_falls_back_when_the_model_fails(browser: Browser, generating):
    server = generating["server"]
    server.reply(GOOD_ENGLISH)
    session = open_session(browser, generating["url"], viewport={"width": 1280, "height": 900})
    page = session.page
    toggle = page.locator("#khabar-answerer")
    expect(toggle.get_by_label("Quoted sentences")).to_be_checked()  # the configured default
    toggle.get_by_label("Written by the language model").check()

    ask(page, "What did the US State Department warn?", turn=1)
    answer = last_bot(page)
    expect(answer).to_contain_text("will not hesitate to impose additional sanctions on Moscow")
    expect(answer).to_contain_text("Written by the language model (scripted)")
    expect(answer).to_contain_text("every sentence checked against the sentence it cites")
    expect(answer.locator('a[href="#khabar-t1-src-1"]')).to_have_text("[1]")
    marks = page.locator("#khabar-sources mark.khabar-hl")
    expect(marks.first).to_be_visible()
    assert any(SANCTIONS_HI in t for t in marks.all_inner_texts())  # the Hindi sentence, verbatim
    assert server.requests[-1]["stream"] is True
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "generated-answer.png"))

    server.status(500, "boom")
    ask(page, "What did the US State Department warn?", turn=2)
    fallback = last_bot(page)
    expect(fallback).to_contain_text("The language model's answer was not shown")
    expect(fallback).to_contain_text("it answered HTTP 500")
    expect(fallback).to_contain_text(STATE_DEPT_HI)  # the quoted answer
    expect(page.locator("#khabar-t2-src-1")).to_be_visible()

    # The chat still answers: quoting, this time, without asking the model at all.
    asked = len(server.requests)
    toggle.get_by_label("Quoted sentences").check()
    ask(page, "What did Kim promise Russia?", turn=3)
    expect(last_bot(page)).to_contain_text("किम")
    expect(last_bot(page)).not_to_contain_text("not shown")
    expect(page.locator("#khabar-t3-src-1")).to_be_visible()
    assert len(server.requests) == asked
    session.check_and_close()


# --- adding articles --------------------------------------------------------------------------

SOLAR_TXT = """Rajasthan opens a floating solar farm on the Bisalpur reservoir
The state government of Rajasthan opened a floating solar farm on the Bisalpur reservoir on Tuesday.
The farm will generate 600 megawatts of electricity, enough to power about 300,000 homes.
Officials said the panels also reduce evaporation from the reservoir during the summer.
"""
SOLAR_JSON = {
    "id": "wire-42",
    "title": "Monsoon arrives early in Kerala",
    "text": "The monsoon reached the coast of Kerala on Friday, three days earlier than forecast. "
    "The weather office expects normal rainfall across the country this year.",
    "source": "Khabar Test Wire",
    "published": "2024-06-01",
    "language": "en",
}
# Ingestion strips tags in one pass, so nested tags survive as literal markup: exactly the case
# the web face must still show as text.
HOSTILE_TXT = (
    "Harbour festival <scr<b>ipt>window.__pwned = 1</scr<b>ipt> in Port Elwood\n"
    "The harbour festival in Port Elwood opens on Friday with a parade of tall ships "
    '<scr<b>ipt>window["__pwned"] = 1</scr<b>ipt> along the quay.\n'
    "Organisers expect forty thousand visitors "
    '<im<b>g src=x onerror="window.__pwned = 1"> over the weekend.\n'
    "Tickets are sold at [click](javascript:window.__pwned=1) and **bold** $$x$$ ${window.__pwned = 1}.\n"
)
HOSTILE_JSON = {
    "id": "evil-1",
    "title": "Lighthouse repairs in Port Elwood [click](javascript:window.__pwned=1)",
    "text": "The old lighthouse of Port Elwood will be closed for repairs until the end of the year.",
    "url": "javascript:window.__pwned=1",
    "source": "Port Elwood Gazette",
    "language": "en",
}


def upload(page: Page, files: list[Path]) -> None:
    page.get_by_role("tab", name="Add articles").click()
    page.locator("#khabar-upload input[type=file]").set_input_files([str(f) for f in files])
    for f in files:
        expect(page.locator("#khabar-upload").get_by_role("cell", name=f.name, exact=True)).to_be_visible()
    page.locator("#khabar-add").click()
    results = page.locator("#khabar-results")
    for f in files:
        expect(results).to_contain_text(f.name, timeout=ANSWER_TIMEOUT)
    page.get_by_role("tab", name="Ask").click()


def test_uploaded_article_is_answered_and_refreshes_the_filters(page: Page, tmp_path):
    txt, js = tmp_path / "rajasthan-solar.txt", tmp_path / "monsoon.json"
    txt.write_text(SOLAR_TXT, encoding="utf-8")
    js.write_text(json.dumps(SOLAR_JSON), encoding="utf-8")
    page.get_by_role("tab", name="Add articles").click()
    expect(page.locator("#khabar-results")).to_be_hidden()
    upload(page, [txt, js])
    page.get_by_role("tab", name="Add articles").click()
    rows = page.locator("#khabar-results")
    expect(rows).to_contain_text("ingested")
    page.get_by_role("tab", name="Ask").click()

    ask(page, "How much electricity will the floating solar farm generate?", turn=1)
    expect(last_bot(page)).to_contain_text("600 megawatts")
    expect(page.locator("#khabar-sources mark.khabar-hl", has_text="600 megawatts").first).to_be_visible()
    expect(page.locator("#khabar-sources")).to_contain_text("rajasthan-solar.txt")

    # The new source and dates show up among the filters without a reload.
    page.locator("#khabar-filters").get_by_text("Filters").click()
    expect(page.locator("#khabar-source")).to_be_visible()
    expect(page.locator("#khabar-from")).to_be_visible()
    expect(page.locator("#khabar-header")).to_contain_text("English (en)")


def test_hostile_article_is_shown_as_text_and_runs_nothing(page: Page, tmp_path):
    txt, js = tmp_path / "port-elwood.txt", tmp_path / "lighthouse.json"
    txt.write_text(HOSTILE_TXT, encoding="utf-8")
    js.write_text(json.dumps(HOSTILE_JSON), encoding="utf-8")
    upload(page, [txt, js])

    ask(page, "When does the harbour festival in Port Elwood open?", turn=1)
    # The sources panel is its own output and may render just after the chat turn: wait for it.
    expect(page.locator("#khabar-sources mark.khabar-hl", has_text="harbour festival").first).to_be_visible()
    sources = page.locator("#khabar-sources")
    expect(sources).to_contain_text("<script>window.__pwned = 1</script>")  # the title
    expect(sources).to_contain_text('<script>window["__pwned"] = 1</script> along the quay')
    expect(sources).to_contain_text('<img src=x onerror="window.__pwned = 1">')
    expect(sources).to_contain_text("[click](javascript:window.__pwned=1)")
    expect(last_bot(page)).to_contain_text('<script>window["__pwned"] = 1</script>')
    for where in ("#khabar-sources", "#khabar-chat"):
        assert page.locator(f"{where} script, {where} img[src=x]").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0

    ask(page, "Why is the Port Elwood lighthouse closed?", turn=2)
    expect(sources).to_contain_text("[click](javascript:window.__pwned=1)")  # the title, as text
    expect(sources).to_contain_text("javascript:window.__pwned=1")  # the url, not a link
    assert page.locator('a[href^="javascript:"]').count() == 0
    page.wait_for_timeout(300)  # give an onerror handler the chance to misbehave
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_a_short_article_upload_breaks_no_ones_questions(page: Page, tmp_path):
    """A 10-byte upload with nothing quotable is stored; the next question on its topic is still
    answered, from the other articles (it used to fail for every user)."""
    short = tmp_path / "tiny.txt"
    short.write_text("India won.", encoding="utf-8")
    upload(page, [short])
    ask(page, "What did the US State Department warn?", turn=1)
    expect(last_bot(page)).not_to_contain_text("went wrong")
    expect(page.locator("#khabar-sources mark.khabar-hl").first).to_be_visible()


@pytest.fixture(scope="module")
def small_limits(tmp_path_factory, model_cache) -> Iterator[str]:
    """A second app, on an empty collection, whose upload limits are a few bytes."""
    from khabar.web.serve import launch

    data = tmp_path_factory.mktemp("limits") / "data"
    settings = Settings(data_dir=data, model_cache_dir=model_cache, max_upload_bytes=300, max_file_bytes=200)
    port = free_port()
    chat = launch(settings, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        chat.close()
        settings_mod.reset()


def test_an_upload_over_the_limit_is_refused_with_the_limit(browser: Browser, small_limits, tmp_path):
    session = open_session(browser, small_limits, viewport={"width": 1280, "height": 900})
    page = session.page
    files = []
    for name in ("one.txt", "two.txt"):  # 180 bytes each: under the file limit, over the upload's
        (path := tmp_path / name).write_text("A title\n" + "word " * 34 + "end.", encoding="utf-8")
        files.append(path)
    page.get_by_role("tab", name="Add articles").click()
    expect(page.get_by_text("Up to 300 bytes an upload and 200 bytes a file.")).to_be_visible()
    page.locator("#khabar-upload input[type=file]").set_input_files([str(f) for f in files])
    for f in files:
        expect(page.locator("#khabar-upload").get_by_role("cell", name=f.name, exact=True)).to_be_visible()
    page.locator("#khabar-add").click()
    status = page.locator("#khabar-add-status")
    expect(status).to_contain_text("Not added", timeout=ANSWER_TIMEOUT)
    expect(status).to_contain_text("over the limit of 300 bytes an upload")
    expect(page.locator("#khabar-results")).to_be_hidden()

    # One file over the file limit is refused by the upload route itself, before it is stored.
    (big := tmp_path / "big.txt").write_text("A title\n" + "word " * 60 + "end.", encoding="utf-8")
    page.locator("#khabar-upload input[type=file]").set_input_files([str(big)])
    expect(page.get_by_text("200", exact=False).filter(has_text="exceed")).to_be_visible(
        timeout=ANSWER_TIMEOUT
    )
    session.check_and_close()
