"""Titles: a given title kept once, or one made from the text when the file has none.

Hand-written rules rather than "the first line": agency copy often starts with a dateline
("New York CNN —", "जागरण संवाददाता, नई दिल्ली: ") or a place, which would make a useless title,
and a title cut from a long first line must end at a word.
"""

from __future__ import annotations

import re

MAX_TITLE_LINE = 150  # a first line this short, with text after it, is the title
MAX_TITLE = 100  # a title made from the text is cut to about this many characters
MAX_DATELINE = 50  # a short "Place, agency: " before the story is a dateline, not a headline

_SENTENCE_END = re.compile(r"(?<=[.!?।॥])\s")
_NOT_IN_HEADLINE = re.compile(r"[,.!?।()\[\]]")


def split_title(text: str) -> tuple[str, str]:
    """(title, text) for cleaned text that came without a title, as in a .txt file.

    A short first line with more text after it is the title and leaves the text. Otherwise the
    title is made from the first line (``headline_of``) and the text is kept whole, so that a
    citation span points into the real text.
    """
    first, _, rest = text.partition("\n")
    if len(first) <= MAX_TITLE_LINE and rest:
        return first, rest
    return headline_of(first), text


def derive_title(text: str) -> str:
    """A title for a record that has none; unlike ``split_title`` the text stays as it is.

    The first line is skipped when it is a dateline ("New York CNN —", "नई दिल्ली"),
    a common start of agency copy that would make a useless title.
    """
    lines = text.split("\n")
    if len(lines) > 1 and _is_dateline(lines[0]):
        lines = lines[1:]
    first = lines[0]
    if len(first) <= MAX_TITLE_LINE and len(lines) > 1:
        return first
    return headline_of(first)


def headline_of(line: str) -> str:
    """The headline part of a long first line: "Headline: story..." or else the first sentence.

    The part before ": " counts only if it reads like a headline (three words or more, no
    comma or brackets): in the Hindi corpora that part is usually a dateline ("जागरण संवाददाता,
    नई दिल्ली: ...") or a place ("अफजलगढ़ (बिजनौर): ..."), which is then skipped.
    """
    head, colon, tail = line.partition(": ")
    head = head.strip()
    if colon and len(head) <= MAX_TITLE:
        if len(head.split()) >= 3 and not _NOT_IN_HEADLINE.search(head):
            return head
        if len(head) <= MAX_DATELINE and tail.strip():
            line = tail
    sentences = [s.strip() for s in _SENTENCE_END.split(line, maxsplit=2)]
    # A first "sentence" of one or two words is a dateline ("गोरखपुर। उत्तर प्रदेश के ..."): skip it.
    sentence = next((s for s in sentences if len(s.split()) >= 3), sentences[0])
    if len(sentence) <= MAX_TITLE:
        return sentence
    cut = sentence[:MAX_TITLE]
    if " " in cut[MAX_TITLE // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-—") + "…"


def title_and_body(title: str, text: str) -> tuple[str, str]:
    """A given title, with its repetition at the top of the text removed (a page's <h1>, a
    Markdown heading); without one, the title is derived from the text."""
    return (title, _without_title_line(title, text)) if title else split_title(text)


def _without_title_line(title: str, text: str) -> str:
    """The text without its first line when that line only repeats the title."""
    first, _, rest = text.partition("\n")
    return rest if rest and first.casefold() == title.casefold() else text


def _is_dateline(line: str) -> bool:
    return len(line.split()) < 3 or line.rstrip().endswith(("—", "–", "-", ":"))
