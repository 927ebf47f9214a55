"""A fetched page as an ``Article``: the same extraction as a saved HTML file
(:func:`ingest.sources.html_pages.article_from_html`), named by its canonical URL.

Why the canonical URL is the article's name: the same story is reached by many links (a feed's
tracking link, a redirect, a link with ``?utm_source=…``, the page's own ``<link rel=canonical>``);
naming it by one normalised URL is what keeps it from being stored twice, and an update of the
story (same URL, new text) replaces what was stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.language import DEFAULT_LANGUAGES
from index.records import Article
from ingest.errors import ReadError
from ingest.sources.dates import normalise_date
from ingest.sources.html_pages import article_from_html
from ingest.sources.source import Source
from ingest.web.fetch import Fetched, Fetcher, FetchError
from ingest.web.urls import canonical_url, same_site

log = logging.getLogger(__name__)


@dataclass
class PageSource(Source):
    """A fetched page as the readers' ``Source``: named by its URL, and its articles held by it
    (their ``path`` is the URL, not a file)."""

    url: str = ""

    @property
    def name(self) -> str:
        return self.url

    def article(self, /, **fields: Any) -> Article:
        article = super().article(**fields)
        article.path = self.url
        return article


def page_source(
    url: str, detect_language: bool = True, languages: tuple[str, ...] = DEFAULT_LANGUAGES
) -> PageSource:
    # ``path`` is never read (a page's bytes come from the fetch); the URL names the source.
    return PageSource(Path(url), url, detect_language, languages, url=url)


def page_article(
    fetched: Fetched,
    *,
    detect_language: bool = True,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    fallback_date: str = "",
) -> Article:
    """The article of a fetched page, named by its canonical URL (the page's own, else where the
    fetch ended). ``fallback_date``: the date to keep when the page states none (a feed entry's).
    Raises ``ReadError`` (with the URL) when the page holds no article text."""
    final = canonical_url(fetched.final_url or fetched.url)
    source = page_source(final, detect_language, languages)
    try:
        article = article_from_html(source, fetched.content, final, url=fetched.final_url or fetched.url)
    except ReadError:
        raise
    except RecursionError as exc:
        raise source.error("it is nested too deeply to read", "the page cannot be read") from exc
    stated = canonical_url(article.url) if article.url else final
    # A page may name only its own site's URL as canonical: otherwise any page could take the
    # name, and so replace the stored text, of another site's article.
    name = stated if same_site(stated, final) else final
    article.id = article.url = article.path = name
    if not article.published and fallback_date:
        article.published = normalise_date(fallback_date)
    return article


def fetch_error(url: str, reason: str) -> ReadError:
    """A page that could not be fetched, as a problem of an ingest report (with the fix)."""
    return ReadError(url, reason, "check the URL in a browser, then ingest it again")


def fetch_articles(
    fetcher: Fetcher,
    urls: Iterable[str],
    *,
    detect_language: bool = True,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    on_done: Callable[[str], None] | None = None,
) -> tuple[list[Article], list[ReadError]]:
    """The articles of the pages at ``urls`` (each once, by canonical URL), and a problem for each
    page that could not be fetched or held no article; one failure never stops the others."""
    articles: dict[str, Article] = {}
    problems: list[ReadError] = []
    for url in dict.fromkeys(u.strip() for u in urls if u.strip()):
        try:
            article = page_article(fetcher.fetch(url), detect_language=detect_language, languages=languages)
        except FetchError as err:
            log.warning("%s: %s", err.url, err.reason)
            problems.append(fetch_error(url, err.reason))
        except ReadError as err:
            log.warning("%s: %s", url, err.reason)
            problems.append(ReadError(url, err.reason, err.fix))
        else:
            articles.setdefault(article.id, article)
        if on_done is not None:
            on_done(url)
    return list(articles.values()), problems
