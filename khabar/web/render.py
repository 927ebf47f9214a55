"""Answers and sources as Markdown/HTML, with every piece of article text escaped.

Article text is data, never markup: titles, passages, sentences, sources and urls come from
files anyone can upload, so everything from an article is escaped before it is placed into
the chat's Markdown or the sources panel's HTML. Urls become links only when they are
http(s). Gradio's own sanitizer stays on as a second line of defence, not the first.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from index.records import Passage, shown_date
from khabar.answer_notes import answer_notes, text_from_label, time_notes
from rag.types import Answer, Citation

if TYPE_CHECKING:  # only for the annotation: rendering needs no ingest code
    from khabar.web.collection import Facets

_MD_SPECIALS = frozenset(string.punctuation)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_UNSAFE_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f<>\"'`\\]")

LANGUAGE_NAMES = {
    "hi": "Hindi",
    "en": "English",
    "bn": "Bengali",
    "mr": "Marathi",
    "ta": "Tamil",
    "te": "Telugu",
    "gu": "Gujarati",
    "kn": "Kannada",
    "ml": "Malayalam",
    "pa": "Punjabi",
    "ur": "Urdu",
    "ne": "Nepali",
}


def escape_markdown(text: str) -> str:
    """Backslash-escape every ASCII punctuation mark, so Markdown shows ``text`` literally.

    CommonMark lets any ASCII punctuation be escaped; escaping all of it (rather than a
    hand-picked set) also defeats raw HTML, autolinks, entities and LaTeX delimiters.
    """
    return "".join("\\" + ch if ch in _MD_SPECIALS else ch for ch in text)


def esc(text: Any) -> str:
    """HTML-escape anything (quotes too: the result may sit inside an attribute)."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_href(url: str) -> str | None:
    """The escaped url when it is a plain http(s) link, otherwise None (never a link)."""
    url = (url or "").strip()
    if not url or _UNSAFE_URL_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return esc(url)


def language_label(code: str) -> str:
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def lang_attr(code: str) -> str:
    """A ``lang`` attribute (so the browser shapes Devanagari well), only for a sane tag."""
    return f' lang="{esc(code)}"' if code and _LANG_TAG.match(code) else ""


def anchor_id(prefix: str, marker: int) -> str:
    return f"{prefix}-src-{marker}"


# --- highlights ------------------------------------------------------------------------------


def locate_highlight(passage: str, sentence: str, span: Sequence[int]) -> tuple[int, int] | None:
    """Where the cited sentence sits in the passage.

    The answerer's span is trusted when it holds the sentence; otherwise the sentence is
    searched for (a span off by a normalisation must not highlight the wrong words), and a
    span inside the passage is the last resort.
    """
    start, end = (int(span[0]), int(span[1])) if len(span) == 2 else (-1, -1)
    in_bounds = 0 <= start < end <= len(passage)
    if in_bounds and passage[start:end] == sentence:
        return start, end
    if sentence:
        found = passage.find(sentence)
        if found >= 0:
            return found, found + len(sentence)
    return (start, end) if in_bounds else None


@dataclass
class Mark:
    start: int
    end: int
    marker: int


def passage_html(passage: str, marks: Iterable[Mark], id_prefix: str) -> str:
    """The passage as escaped HTML with each cited sentence in a ``<mark>`` anchored by marker."""
    out: list[str] = []
    pos = 0
    for m in sorted(marks, key=lambda m: (m.start, m.end)):
        if m.start < pos or m.end > len(passage) or m.start >= m.end:
            continue  # overlapping or out of range: never split an escape or repeat text
        out.append(esc(passage[pos : m.start]))
        out.append(
            f'<mark class="khabar-hl" id="{esc(anchor_id(id_prefix, m.marker))}" '
            f'data-marker="{m.marker}">{esc(passage[m.start : m.end])}'
            f'<sup class="khabar-mark-n">[{m.marker}]</sup></mark>'
        )
        pos = m.end
    out.append(esc(passage[pos:]))
    return "".join(out)


# --- the chat message ------------------------------------------------------------------------


def _marker_link(c: Citation, id_prefix: str) -> str:
    hover = " — ".join(x for x in (c.title or c.article_id, c.source, shown_date(c.published)) if x)
    hover = f"{hover}: {c.sentence}"
    if len(hover) > 240:
        hover = hover[:239] + "…"
    return f'[\\[{c.marker}\\]](#{anchor_id(id_prefix, c.marker)} "{escape_markdown(hover)}")'


def answer_markdown(answer: Answer, id_prefix: str, model: str = "") -> str:
    """The chat message: the answer text, its [n] markers linked to the sources panel, with the
    notes on who wrote it and what checking it found (``model``: the connected model's name).

    Markers are found in the raw text before escaping, so a generated answer that interleaves
    prose and markers renders the same way as an extractive one.
    """
    if answer.declined:
        lines = ["**No answer.** " + escape_markdown(answer.text)]
        if answer.passages:
            lines.append("The closest passages looked at are shown under *Sources*.")
        else:
            lines.append("No passage matched the question and the filters.")
        if answer.reason:
            lines.append(f"*({escape_markdown(answer.reason)})*")
        return "\n\n".join([*map(_note, time_notes(answer)), *lines])
    before, after = answer_notes(answer, model)
    before = time_notes(answer) + before
    body = _timeline(answer, id_prefix) if answer.kind == "timeline" else _linked_text(answer, id_prefix)
    return "\n\n".join([*map(_note, before), body, *map(_note, after)])


def _timeline(answer: Answer, id_prefix: str) -> str:
    """A digest's timeline as a dated list, newest first: date · headline — sentence [n] (a
    generated summary first, then its dated sources [n] date · headline)."""
    lines = []
    for c in answer.citations:
        first = (
            f" *(first reported {escape_markdown(shown_date(c.first_reported))})*" if c.first_reported else ""
        )
        date = f"**{escape_markdown(shown_date(c.published))}**"
        title = escape_markdown(c.title or c.article_id)
        if answer.answerer == "generated":
            lines.append(f"- {_marker_link(c, id_prefix)} {date} · {title}{first}")
        else:
            lines.append(
                f"- {date} · {title} — {escape_markdown(c.sentence)} {_marker_link(c, id_prefix)}{first}"
            )
    listed = "\n".join(lines)
    return f"{_linked_text(answer, id_prefix)}\n\n{listed}" if answer.answerer == "generated" else listed


def _note(text: str) -> str:
    return f"*{escape_markdown(text)}*"


def _linked_text(answer: Answer, id_prefix: str) -> str:
    """The answer's text escaped, each [n] with a citation a link to it (others stay text)."""
    by_marker = {c.marker: c for c in answer.citations}
    out: list[str] = []
    pos = 0
    for m in _MARKER.finditer(answer.text):
        cited = by_marker.get(int(m.group(1)))
        if cited is None:
            continue
        out.append(escape_markdown(answer.text[pos : m.start()]))
        out.append(_marker_link(cited, id_prefix))
        pos = m.end()
    out.append(escape_markdown(answer.text[pos:]))
    return "".join(out)


def partial_markdown(text: str) -> str:
    """A streaming answer so far (its citations are not known yet)."""
    return escape_markdown(text) + " ▍"


# --- the sources panel -----------------------------------------------------------------------


def _meta_line(
    source: str, published: str, language: str, url: str, article_id: str, text_from: str = ""
) -> str:
    bits = []
    if source:
        bits.append(f'<span class="khabar-source-name">{esc(source)}</span>')
    shown = shown_date(published)
    bits.append(f"<time>{esc(shown)}</time>" if published else f'<span class="khabar-undated">{shown}</span>')
    if language:
        bits.append(f'<span class="khabar-lang">{esc(language_label(language))}</span>')
    href = safe_href(url)
    if href:
        bits.append(f'<a href="{href}" target="_blank" rel="noopener noreferrer nofollow">open article ↗</a>')
    elif url:
        bits.append(f'<span class="khabar-url">{esc(url)}</span>')
    bits.append(f'<span class="khabar-id">{esc(article_id)}</span>')
    if text_from:
        bits.append(f'<span class="khabar-text-from">{esc(text_from_label(text_from))}</span>')
    return " · ".join(bits)


def _card(
    *,
    markers: list[int],
    title: str,
    meta: str,
    body: str,
    language: str,
    card_id: str,
    footer: str = "",
) -> str:
    label = " ".join(f"[{n}]" for n in markers)
    head = f'<span class="khabar-markers">{esc(label)}</span> ' if markers else ""
    return (
        f'<article class="khabar-source" id="{esc(card_id)}">'
        f'<h4 class="khabar-title">{head}<span class="khabar-title-text">{esc(title)}</span></h4>'
        f'<div class="khabar-meta">{meta}</div>'
        f'<p class="khabar-passage"{lang_attr(language)}>{body}</p>'
        f"{footer}"
        "</article>"
    )


def citations_html(citations: Sequence[Citation], id_prefix: str) -> str:
    """One card per cited passage, every cited sentence in it highlighted."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.chunk_id, []).append(c)
    cards = []
    for i, group in enumerate(groups.values()):
        first = group[0]
        marks = []
        for c in group:
            where = locate_highlight(c.passage, c.sentence, c.highlight)
            if where:
                marks.append(Mark(where[0], where[1], c.marker))
        cards.append(
            _card(
                markers=[c.marker for c in group],
                title=first.title or first.article_id,
                meta=_meta_line(
                    first.source,
                    first.published,
                    first.language,
                    first.url,
                    first.article_id,
                    first.text_from,
                ),
                body=passage_html(first.passage, marks, id_prefix),
                language=first.language,
                card_id=f"{id_prefix}-card-{i + 1}",
                footer=matches_html(group),
            )
        )
    return "".join(cards)


def matches_html(citations: Sequence[Citation]) -> str:
    """Under a passage quoted across languages: the names, numbers and translated words each cited
    sentence shares with the question, in both scripts (each side in its own language, for the
    reader's fonts)."""
    lines = []
    for c in citations:
        if not c.matches:
            continue
        pairs = " · ".join(
            f"<span>{esc(asked)}</span> ↔ <span{lang_attr(c.language)}>{esc(written)}</span>"
            for asked, written in c.matches
        )
        lines.append(f'<p class="khabar-matches">[{c.marker}] matches the question: {pairs}</p>')
    return "".join(lines)


def passages_html(passages: Sequence[Passage], id_prefix: str, limit: int = 5) -> str:
    """The passages looked at, unhighlighted (for a declined answer)."""
    return "".join(
        _card(
            markers=[],
            title=p.title or p.article_id,
            meta=_meta_line(p.source, p.published, p.language, p.url, p.article_id, p.text_from)
            # The score's kind depends on the retrieval settings (reranked cosine blend, RRF, BM25),
            # so it is named for what it does: the order the passages were looked at in.
            + f' · <span class="khabar-score" title="retrieval score: passages are ordered by it">'
            f"rank {p.rank} · score {p.score:.3g}</span>",
            body=esc(p.text),
            language=p.language,
            card_id=f"{id_prefix}-passage-{i + 1}",
        )
        for i, p in enumerate(passages[:limit])
    )


def sources_html(answer: Answer, id_prefix: str) -> str:
    """The sources panel for one answer: what it cites, or what was looked at when declined."""
    if answer.declined:
        if not answer.passages:
            return _panel(
                "No answer",
                '<p class="khabar-note">No passage matched the question and the filters. '
                "Widen the filters or add articles.</p>",
            )
        return _panel("No answer — closest passages looked at", passages_html(answer.passages, id_prefix))
    checked = ""
    if answer.answerer == "generated":
        checked = (
            '<p class="khabar-note">Each sentence of the written answer was checked against the '
            "sentence it cites, highlighted here as written in its article.</p>"
        )
    return _panel("Sources", checked + citations_html(answer.citations, id_prefix))


def header_html(facets: Facets) -> str:
    """The line above the chat: what Khabar does, and what the collection holds."""
    langs = ", ".join(language_label(code) for code in facets.languages) or "none yet"
    span = f" · {facets.first_date} to {facets.last_date}" if facets.has_dates else ""
    return (
        "<p><b>Khabar</b> answers questions about the news by quoting the articles, "
        "and shows which sentence each answer came from.</p>"
        f'<p class="khabar-note">Collection: {facets.articles} article(s), {facets.chunks} passages · '
        f"languages: {esc(langs)}{esc(span)}</p>"
    )


def intro_html(articles: int) -> str:
    if not articles:
        body = (
            '<p class="khabar-note">The collection is empty. Add articles in the '
            "<b>Add articles</b> tab (or run <code>khabar ingest corpus/</code>).</p>"
        )
    else:
        body = (
            '<p class="khabar-note">Ask a question: the answer quotes sentences from the articles, '
            "and each one is highlighted here in its passage, with the article it came from.</p>"
        )
    return _panel("Sources", body)


def message_html(title: str, text: str) -> str:
    return _panel(title, f'<p class="khabar-note">{esc(text)}</p>')


def _panel(heading: str, body: str) -> str:
    return f'<section class="khabar-sources" aria-live="polite"><h3>{esc(heading)}</h3>{body}</section>'
