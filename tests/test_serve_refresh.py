"""`khabar serve --refresh-every`: the feed refresh runs beside a running chat. Two refreshes
against a local feed that gains an entry in between add exactly that one article, the chat
answers from it, and the page's refresh line says what arrived."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from khabar import components
from khabar.web.refresh import BackgroundRefresh
from khabar.web.serve import launch
from tests.http_site import Page, serve_site
from tests.test_cli import cli  # noqa: F401 (the fixture)
from tests.test_feeds_refresh import item, rss
from tests.test_fetch import article_page

FIRST = (
    "The city council of Pune approved a new budget for public buses on Monday. The plan adds "
    "two hundred electric buses to the fleet by next year, the mayor said."
)
SECOND = (
    "Flamingo counts at the Sambhar salt lake reached a record this winter. Wildlife officers "
    "counted forty thousand flamingos along the lake's southern shore in a single morning."
)
DEADLINE_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def test_background_refresh_adds_the_new_entry_once_and_the_running_chat_answers_from_it(
    make_settings, embed_model
):
    from gradio_client import Client

    with serve_site() as site:
        entries = [item("e-1", site.url("/pune-buses"), "Pune buses", "Mon, 30 Nov 2026 03:00:00 GMT")]
        site.routes.update(
            {
                "/pune-buses": Page(article_page("Pune approves electric buses", FIRST)),
                "/flamingos": Page(article_page("Record flamingo count at Sambhar", SECOND)),
                "/feed.xml": rss(site, entries),
            }
        )
        settings = make_settings(
            fetch_timeout=2.0, fetch_retries=0, fetch_backoff=0.0, fetch_host_delay=0.0, alignment_weight=0
        )
        refresher = components.feed_refresher(settings)
        try:
            refresher.add(site.url("/feed.xml"))
        finally:
            refresher.close()

        port = free_port()
        served = launch(settings, host="127.0.0.1", port=port, block=False, refresh_every=1.0)
        assert served.feed_refresh is not None
        index = components.open_index(settings)
        try:
            wait_for(lambda: index.manifest.count_names() == 1, "the first refresh")
            # The feed gains one entry; the refreshes after it find it, and only it, new.
            entries.append(item("e-2", site.url("/flamingos"), "Flamingos", "Tue, 01 Dec 2026 06:00:00 GMT"))
            site.routes["/feed.xml"] = rss(site, entries)
            wait_for(lambda: index.manifest.count_names() == 2, "the entry the feed gained")
            pages_before = site.hits["/flamingos"]
            time.sleep(2.5)  # at least two more refreshes of an unchanged feed
            assert index.manifest.count_names() == 2
            assert site.hits["/flamingos"] == pages_before  # not fetched again

            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            try:
                result = client.predict(
                    message="How many flamingos were counted at Sambhar lake?",
                    chat=[],
                    languages=[],
                    sources=[],
                    date_from="",
                    date_to="",
                    answerer=None,
                    api_name="/respond",
                )
            finally:
                client.close()
            reply = str(result[1][-1])
            assert "Sambhar salt lake" in reply  # quoted from the article the refresh added
        finally:
            served.close()  # the refresh thread, then the web server
            assert not any(t.name == "khabar-feed-refresh" for t in threading.enumerate())
            index.close()


class _Report:
    def __init__(self, new: int, updated: int = 0, failed: int = 0):
        self.counts = {"new": new, "updated": updated, "failed": failed}

    def total(self, what: str) -> int:
        return self.counts[what]


def test_the_refresh_line_says_what_arrived_and_a_failed_run_does_not_end_the_loop():
    outcomes: list[object] = [_Report(3, 1), RuntimeError("disk full"), _Report(0, 0, 2)]
    seen: list[str] = []

    def refresh() -> object:
        outcome = outcomes[min(len(seen), len(outcomes) - 1)]
        seen.append("run")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    feeds = BackgroundRefresh(refresh, every=900)
    assert "first refresh is running" in feeds.status()
    feeds._once()
    assert "4 new" not in feeds.status() and "3 new, 1 updated" in feeds.status()
    assert "4 articles arrived" in feeds.status() and "every 15 min" in feeds.status()
    feeds._once()
    assert "failed (RuntimeError: disk full)" in feeds.status()
    feeds._once()
    assert "0 new, 0 updated, 2 failed" in feeds.status() and "4 articles arrived" in feeds.status()
    assert feeds.runs == 3
    feeds.stop()


@pytest.mark.parametrize("every", ["soon", "0m"])
def test_a_bad_refresh_interval_is_a_usage_error(every, cli):  # noqa: F811
    result = cli("serve", "--refresh-every", every)
    assert result.exit_code == 2
    assert "interval" in result.output
