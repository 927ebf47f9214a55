"""HTML pages: one article each, its main text extracted by trafilatura.

A saved news page is mostly not the article (menus, share bars, "read more" lists, readers'
comments); trafilatura finds the article and its metadata (title, site, date, canonical URL).
It is imported only when there is HTML to read.
"""

from __future__ import annotations

from index.records import Article
from ingest.clean import clean_text, clean_title
from ingest.sources.dates import normalise_date
from ingest.sources.source import ReadResult, Source
from ingest.sources.titles import title_and_body


def read_html(source: Source, data: bytes) -> ReadResult:
    return ReadResult([article_from_html(source, data, source.file_id)])


def article_from_html(source: Source, data: bytes, id: str, url: str = "") -> Article:
    """The article of one HTML page, named ``id``. ``url``: where the page was fetched from (a
    saved file has none); the page's own canonical URL, when it states one, wins over it.
    The author, when the page names one, is kept in ``extra["author"]``. Shared by saved pages
    and fetched ones (``ingest.web.pages``), so both are read the same way."""
    # Imported here: trafilatura (lxml, htmldate, justext) is only needed when there is HTML.
    import trafilatura

    # Bytes, not text: trafilatura honours the page's own <meta charset>. favor_precision keeps
    # menus, share bars and "read more" lists out; comments are readers', not the article's.
    # The date comes from htmldate: meta tags, JSON-LD, then the text.
    doc = trafilatura.bare_extraction(
        data,
        url=url or None,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
    )
    text = clean_text(doc.text or "") if doc is not None else ""
    if doc is None or not text:
        raise source.error(
            "no article text found",
            "check that the page holds the article itself (not only navigation, or text that "
            "JavaScript loads); or save the article text as .txt",
        )
    title = clean_title(doc.title or "")
    title, text = title_and_body(title, text)
    categories = [c for c in (doc.categories or []) if c]
    author = clean_title(doc.author or "")
    return source.article(
        id=id,
        title=title,
        text=text,
        source=clean_title(doc.sitename or doc.hostname or ""),
        category=clean_title(", ".join(categories)),
        url=doc.url or url,
        published=normalise_date(doc.date or ""),
        extra={"author": author} if author else {},
    )
