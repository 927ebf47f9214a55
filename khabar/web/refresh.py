"""``khabar serve --refresh-every 15m``: the feed refresh of ``khabar feeds refresh --every``,
run in a thread beside the chat, and the line the chat shows of it.

The refresh itself is ``ingest.web.refresh.FeedRefresher`` (built fresh for each run by the
caller's ``refresh``, so its index handle never outlives the run); the loop is
``khabar.schedule.run_every``. A run that fails is logged and shown, and the next one still comes.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from khabar.schedule import run_every

log = logging.getLogger(__name__)


class BackgroundRefresh:
    """Refreshes the followed feeds every ``every`` seconds until :meth:`stop`."""

    def __init__(self, refresh: Callable[[], Any], every: float):
        self._refresh, self.every = refresh, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last: Any = None  # the last RefreshReport
        self.finished: datetime | None = None
        self.error = ""
        self.arrived = 0  # articles new or updated since the app started

    def start(self) -> BackgroundRefresh:
        self._thread = threading.Thread(target=self._loop, name="khabar-feed-refresh", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        run_every(self.every, self._once, self._stop)

    def _once(self) -> None:
        try:
            report = self._refresh()
        except Exception as err:  # the next run may succeed: log, show, go on
            log.exception("feed refresh failed")
            self.error = f"{type(err).__name__}: {err}"
        else:
            self.last, self.error = report, ""
            self.arrived += report.total("new") + report.total("updated")
        self.finished = datetime.now(UTC)
        self.runs += 1

    def status(self) -> str:
        """One line for the chat: when the collection was last refreshed and what arrived."""
        minutes = f"{self.every / 60:g} min" if self.every >= 60 else f"{self.every:g} s"
        if self.finished is None:
            return f"Feeds are refreshed every {minutes}; the first refresh is running."
        when = self.finished.strftime("%Y-%m-%d %H:%M UTC")
        if self.error:
            return f"Feeds: the refresh at {when} failed ({self.error}); next in {minutes}."
        report = self.last
        got = f"{report.total('new')} new, {report.total('updated')} updated"
        failed = report.total("failed")
        return (
            f"Feeds last refreshed {when}: {got}"
            + (f", {failed} failed" if failed else "")
            + f" ({self.arrived} articles arrived since the app started; every {minutes})."
        )

    def status_html(self) -> str:
        return f'<p class="khabar-note">{html.escape(self.status())}</p>'
