"""Text clean-up shared by every reader.

Why one place: citations point at character spans of the cleaned text, and a question is matched
against answers after Unicode NFC, so every article must come out of the same normalisation.

What it never does: touch letters or combining marks. Devanagari vowel signs, virama (्),
nukta (़) and danda (।) pass through; the only change to them is NFC itself, which (by the
Unicode standard) writes precomposed nukta letters such as क़ (U+0958) as क + ़ — the form every
other NFC text, including the questions, uses too.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Scripts in which ZERO WIDTH (NON-)JOINER choose a glyph form (half forms, eyelash ra, Urdu and
# Persian letter joining). Between two such characters they are spelling, so they stay; anywhere
# else they are invisible noise that breaks exact matching, so they go.
_JOINING_SCRIPTS = "\u0600-\u06ff\u0750-\u077f\u0900-\u0dff\ua8e0-\ua8ff\ufb50-\ufdff\ufe70-\ufefc"
_STRAY_JOINER = re.compile(f"(?<![{_JOINING_SCRIPTS}])[\u200c\u200d]|[\u200c\u200d](?![{_JOINING_SCRIPTS}])")

# Control characters (except tab and newline, handled as whitespace) and invisible format
# characters that scraped text carries: soft hyphen, zero-width space, direction marks and
# embeddings, word joiner, byte-order mark, interlinear annotation marks.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")

# HTML remnants. Script and style bodies are code, not prose: drop them whole. Block-level tags
# end a paragraph; cell tags separate words; every other tag (b, a, span, ...) just goes away.
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BLOCK_TAG = re.compile(
    r"</?(?:address|article|aside|blockquote|br|dd|div|dl|dt|figcaption|figure|footer|h[1-6]|header"
    r"|hr|li|main|nav|ol|p|pre|section|table|tr|ul)\b[^<>]*>",
    re.IGNORECASE,
)
_CELL_TAG = re.compile(r"</?(?:td|th)\b[^<>]*>", re.IGNORECASE)
# A tag must start with a letter (or "/letter") right after "<", so prose such as "x < y" or
# "<10%" is left alone.
_ANY_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>")

_HSPACE = re.compile(r"[^\S\n]+")  # any Unicode whitespace but newline: tabs, NBSP, em space...


def clean_text(text: str) -> str:
    """Normalise article text: NFC, no HTML, no invisible characters, tidy whitespace.

    Paragraphs come out as non-empty stripped lines joined by a single "\\n" (blank lines
    between paragraphs are dropped): chunking splits on "\\n", and one separator keeps the
    character spans of citations simple.
    """
    text = html.unescape(text)  # first, so escaped markup (&lt;p&gt;) is stripped below too
    text = _SCRIPT_STYLE.sub(" ", text)
    text = _COMMENT.sub(" ", text)
    text = _BLOCK_TAG.sub("\n", text)
    text = _CELL_TAG.sub(" ", text)
    text = _ANY_TAG.sub("", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _STRAY_JOINER.sub("", text)
    lines = (_HSPACE.sub(" ", line).strip() for line in text.split("\n"))
    # NFC last: removing characters above may leave a base and a mark next to each other.
    return unicodedata.normalize("NFC", "\n".join(line for line in lines if line))


def clean_title(text: str) -> str:
    """Clean like ``clean_text`` and fold onto one line: a title is shown on one line."""
    return clean_text(text).replace("\n", " ")


# Markdown: a handful of substitutions instead of a Markdown parser. We need the words, not the
# structure: news written as Markdown is prose with headings, emphasis and links, and a
# parser would be one more dependency for the same result. Anything left over (tables' pipes)
# is harmless to retrieval.
_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^\s*(```|~~~).*$", re.MULTILINE), ""),  # code fences (the code stays)
    (re.compile(r"^\s*\[[^\]]+\]:\s+\S+.*$", re.MULTILINE), ""),  # [ref]: url definitions
    (re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.MULTILINE), ""),  # horizontal rules
    (re.compile(r"^\s*(?:=+|-+)\s*$", re.MULTILINE), ""),  # setext heading underlines
    (re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", re.MULTILINE), r"\1"),  # # Heading
    (re.compile(r"^(?:\s*>)+\s?", re.MULTILINE), ""),  # > quotes
    (re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", re.MULTILINE), ""),  # list markers
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url) -> text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref] -> text
    (re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>"), r"\1"),  # <https://...> autolinks
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **strong**
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # _emphasis_
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),  # ~~strike~~
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # `code`
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])"), r"\1"),  # backslash escapes
]


def strip_markdown(text: str) -> str:
    """Remove common Markdown markup, keeping the visible words (run ``clean_text`` after)."""
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text
