"""Following RSS and Atom feeds: add, list, remove, and refresh them into the index.

One refresh, per feed: a conditional GET of the feed (304: nothing to do); each entry not seen
before, or whose own updated stamp changed, has its page fetched and read as an article named by
its canonical URL; when the page cannot be fetched (gone, failing, forbidden by robots.txt, no
article in it) the entry's own text from the feed is stored instead, marked
(``extra["from"] = "feed summary"``, and ``fetched_from = "summary"`` in the entry's state).
Everything fetched is then ingested in one locked run (:meth:`ingest.pipeline.Ingestor.ingest_articles`),
which never stores one text twice and replaces an updated article's chunks; only then are the
feeds' ETag, Last-Modified and entries recorded, so a refresh cut short is redone, not lost.

Why no library does this: feedparser parses a feed and httpx fetches it, but which entries are
new, what to fetch, what to fall back to and what to remember between runs is this project's.
Apart from the CLI so that ``khabar serve --refresh-every`` can run the same :class:`FeedRefresher`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from index.feeds import EntryState, Feed, FeedStore
from index.language import DEFAULT_LANGUAGES
from index.records import Article
from ingest.errors import ReadError
from ingest.pipeline import Ingestor, IngestReport, StopCheck
from ingest.sources.feeds import FeedEntry, ParsedFeed, feed_entries
from ingest.web.fetch import FEED_TYPES, Fetcher, FetchError
from ingest.web.pages import fetch_articles, page_article, page_source
from ingest.web.urls import canonical_url

log = logging.getLogger(__name__)

FROM_SUMMARY = "feed summary"  # Article.extra["from"] of an article stored from its feed entry's text


@dataclass
class Failure:
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass
class FeedReport:
    """What one feed's refresh found. ``status``: the feed itself (fetched, unchanged, failed)."""

    url: str
    name: str
    status: str = ""
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    from_summary: int = 0  # articles stored from the entry's text because the page failed
    failures: list[Failure] = field(default_factory=list)

    def fail(self, url: str, reason: str) -> None:
        log.warning("%s: %s", url, reason)
        self.failed += 1
        self.failures.append(Failure(url, reason))


@dataclass
class RefreshReport:
    started: str
    finished: str = ""
    feeds: list[FeedReport] = field(default_factory=list)
    ingest: IngestReport | None = None  # the run that stored what was fetched
    cancelled: bool = False

    def total(self, what: str) -> int:
        return sum(getattr(f, what) for f in self.feeds)

    @property
    def failures(self) -> list[Failure]:
        return [x for f in self.feeds for x in f.failures]

    @property
    def ok(self) -> bool:
        """Nothing failed: the exit status a cron job reads."""
        return not self.failures

    def summary(self) -> str:
        return (
            f"{len(self.feeds)} feed(s): {self.total('new')} new, {self.total('updated')} updated, "
            f"{self.total('unchanged')} unchanged, {self.total('failed')} failed"
        )


class NotAFeed(ValueError):
    """A URL added as a feed that does not hold one."""


Progress = Callable[[str], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Pending:
    """A fetched (or summary) article waiting for the ingest run, and the entry it came from."""

    feed: FeedReport
    entry: FeedEntry
    article: Article
    fetched_from: str  # "page" | "summary"
    outcome: str  # "new" | "updated" | "unchanged"
    duplicate: bool = False  # another entry of this run brought the same story: stored once, by it


class FeedRefresher:
    """Adds, removes and refreshes the feeds an index follows (its ``index.feeds`` store).

    Takes its parts: the ingestor (which owns the index, so the feed store is the index's) and
    the fetcher; ``close`` closes both.
    """

    def __init__(
        self,
        ingestor: Ingestor,
        fetcher: Fetcher,
        *,
        detect_language: bool = True,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        now: Callable[[], str] = _now,
    ):
        self.ingestor, self.fetcher = ingestor, fetcher
        self.detect_language, self.languages = detect_language, languages
        self._now = now

    @property
    def store(self) -> FeedStore:
        return self.ingestor.index.feeds

    def close(self) -> None:
        self.fetcher.close()
        self.ingestor.close()

    # --- following ------------------------------------------------------------------------

    def add(self, url: str, name: str | None = None) -> Feed:
        """Follow the feed at ``url``: fetched once to check that it is a feed and learn its
        title (the name, unless ``name`` is given). Raises ``FetchError``, or ``NotAFeed``."""
        url = url.strip()
        fetched = self.fetcher.fetch(url, accept=None)
        try:
            parsed = feed_entries(page_source(url), fetched.content)
        except ReadError as err:
            raise NotAFeed(f"{url} is not an RSS or Atom feed ({err.reason})") from err
        known = self.store.get(url)
        feed = Feed(
            url=url,
            name=(name or "").strip() or (known.name if known else "") or parsed.title or url,
            added=known.added if known else self._now(),
        )
        self.store.add(feed)
        return feed

    def find(self, url_or_name: str) -> Feed | None:
        """The followed feed with this URL, else the one with this name."""
        found = self.store.get(url_or_name.strip())
        if found is not None:
            return found
        named = [f for f in self.store.list() if f.name == url_or_name.strip()]
        return named[0] if len(named) == 1 else None

    def remove(self, feed: Feed) -> None:
        """Stop following ``feed``; the articles it brought stay in the index."""
        self.store.remove(feed.url)

    def articles(self, feed: Feed) -> int:
        return len(self.store.entries(feed.url))

    # --- pages ----------------------------------------------------------------------------

    def ingest_urls(self, urls: list[str], progress: Progress | None = None) -> IngestReport:
        """Fetch the pages at ``urls`` and ingest their articles; each page that failed is a
        problem of the report (URL and reason), and the others are stored."""
        articles, problems = fetch_articles(
            self.fetcher,
            urls,
            detect_language=self.detect_language,
            languages=self.languages,
            on_done=(lambda url: progress(f"fetched {url}")) if progress else None,
        )
        return self.ingestor.ingest_articles(articles, problems)

    # --- refreshing -----------------------------------------------------------------------

    def refresh(self, progress: Progress | None = None, stop: StopCheck | None = None) -> RefreshReport:
        """Refresh every followed feed once (see the module docstring); never raises for a
        feed or a page that fails: each failure is in the report, with its URL and reason."""
        report = RefreshReport(started=self._now())
        say = progress or (lambda message: None)
        stop = stop or (lambda: False)
        pending: list[_Pending] = []
        checked: list[tuple[Feed, FeedReport]] = []
        claimed: dict[str, Article] = {}  # by name and by content hash: what this run fetched
        for feed in self.store.list():
            if stop():
                report.cancelled = True
                break
            feed_report = FeedReport(feed.url, feed.name)
            report.feeds.append(feed_report)
            say(f"{feed.name}: fetching the feed")
            parsed = self._fetch_feed(feed, feed_report)
            checked.append((feed, feed_report))
            if parsed is None:
                continue
            for n, entry in enumerate(parsed.entries, 1):
                if stop():
                    report.cancelled = True
                    break
                say(f"{feed.name}: entry {n} of {len(parsed.entries)}")
                item = self._entry(feed, feed_report, entry, claimed)
                if item is not None:
                    pending.append(item)
        fresh = [p.article for p in pending if not p.duplicate]
        if fresh:  # nothing new: the index's write lock is not taken
            say(f"storing {len(fresh)} article(s)")
        report.ingest = self.ingestor.ingest_articles(fresh, stop=stop) if fresh else IngestReport()
        refused = {p.path: p for f in report.ingest.files for p in f.problems}
        stored = {f.path for f in report.ingest.files if f.status == "ingested"}
        for item in pending:
            holder = item.article.path or item.article.id
            if holder in refused:
                if not item.duplicate:  # the entry that brought it says it once
                    item.feed.fail(holder, refused[holder].reason)
            elif holder in stored:
                setattr(item.feed, item.outcome, getattr(item.feed, item.outcome) + 1)
                item.feed.from_summary += item.fetched_from == "summary"
                self.store.put_entry(
                    EntryState(
                        item.feed.url,
                        item.entry.key,
                        item.article.id,
                        item.article.content_hash,
                        item.fetched_from,
                        item.entry.stamp,
                    )
                )
        for feed, feed_report in checked:
            if report.ingest.cancelled or report.cancelled:
                # What was not stored must be fetched again: forget the ETag, so that the next
                # refresh reads the feed whole instead of hearing 304.
                feed.etag = feed.last_modified = ""
            feed.last_checked = self._now()
            feed.last_status = feed_report.status or _status(feed_report)
            self.store.update(feed)
        report.cancelled = report.cancelled or report.ingest.cancelled
        report.finished = self._now()
        return report

    def _fetch_feed(self, feed: Feed, feed_report: FeedReport) -> ParsedFeed | None:
        """The feed's entries, or None when it is unchanged (304) or failed (reported)."""
        try:
            fetched = self.fetcher.fetch(
                feed.url, etag=feed.etag, last_modified=feed.last_modified, accept=FEED_TYPES
            )
        except FetchError as err:
            feed_report.fail(feed.url, err.reason)
            feed_report.status = f"failed: {err.reason}"
            return None
        if fetched.not_modified:
            feed_report.status = "unchanged (304)"
            return None
        try:
            parsed = feed_entries(page_source(feed.url), fetched.content)
        except ReadError as err:
            feed_report.fail(feed.url, f"it is not a readable feed now ({err.reason})")
            feed_report.status = f"failed: {err.reason}"
            return None
        # Remembered now, saved only after the entries are stored (see ``refresh``).
        feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
        return parsed

    def _entry(
        self, feed: Feed, feed_report: FeedReport, entry: FeedEntry, claimed: dict[str, Article]
    ) -> _Pending | None:
        """The article to store for ``entry``, or None when there is nothing new to store."""
        known = self.store.entry(feed.url, entry.key)
        if known is not None and known.updated == entry.stamp:
            feed_report.unchanged += 1  # seen, and not updated since: no request
            return None
        article, fetched_from = None, "page"
        if entry.link:
            try:
                article = page_article(
                    self.fetcher.fetch(entry.link),
                    detect_language=self.detect_language,
                    languages=self.languages,
                    fallback_date=entry.published,
                )
                if not article.title and entry.title:
                    article.title = entry.title
            except (FetchError, ReadError) as err:
                feed_report.fail(entry.link, err.reason)
        if article is None:
            article, fetched_from = self._from_summary(entry), "summary"
            if article is None:
                return None
        first = claimed.get(article.id) or claimed.get(article.content_hash)
        if first is not None:
            # The story another entry of this run brought: this entry is recorded as that article
            # (once it is stored), so it is not fetched again either.
            return _Pending(feed_report, entry, first, fetched_from, "unchanged", duplicate=True)
        claimed[article.id] = claimed[article.content_hash] = article
        return _Pending(feed_report, entry, article, fetched_from, self._outcome(article))

    def _from_summary(self, entry: FeedEntry) -> Article | None:
        """The entry's own text as the article, named as its page would be, and marked."""
        if entry.summary is None:
            return None
        article = entry.summary
        name = canonical_url(entry.link) if entry.link else entry.key
        article.id = article.path = name
        article.url = entry.link or article.url
        article.extra = {**article.extra, "from": FROM_SUMMARY}
        return article

    def _outcome(self, article: Article) -> str:
        """new, updated or unchanged, by name (canonical URL) and then by text (content hash)."""
        manifest = self.ingestor.manifest
        old = manifest.content_of(article.id)
        if old == article.content_hash:
            return "unchanged"
        if old is not None:
            return "updated"
        stored = manifest.content(article.content_hash)
        return "unchanged" if stored is not None and stored.complete else "new"


def _status(feed_report: FeedReport) -> str:
    failed = f", {feed_report.failed} failed" if feed_report.failed else ""
    return f"ok: {feed_report.new} new, {feed_report.updated} updated{failed}"
