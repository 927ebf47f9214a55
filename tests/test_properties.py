"""Properties over generated input (Hypothesis): what no file and no article may break.

- Any bytes, under any supported suffix: ``read_file`` gives articles or raises its own
  ``ReadError``, never another exception, and never the catch-all "reading it failed" that stands
  for a reader's unforeseen error. (The ingestion catches ``ReadError`` per file, so nothing
  escapes it either.)
- Any text, Devanagari, blanks and zero-width characters included, as a .txt file: one article
  of clean text, or the empty-file refusals.
- The chunker on any clean text: chunks in order whose exact spans, joined, give back the text
  (the gaps between them only the blanks the splitter strips), with sentences inside their chunk.

No model: the chunker counts tokens with a cheap stand-in (four characters a token), so that
examples run in milliseconds; the layout it guarantees does not depend on the tokenizer.
"""

from __future__ import annotations

import itertools
import json
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.records import Article
from ingest.chunking import Chunker, split_sentences
from ingest.clean import clean_text
from ingest.errors import ReadError
from ingest.sources.discovery import SUPPORTED_SUFFIXES
from ingest.sources.dispatch import read_file

UNFORESEEN = "reading it failed"  # the catch-all's reason: a reader's own exception, not foreseen

# Letters of both scripts, digits, sentence ends (the danda too), blanks of every kind, line
# breaks, zero-width and direction characters, markup characters.
ALPHABET = st.one_of(
    st.sampled_from("abcXYZ019 .!?।॥,:;\"'<>&/-\n\r\t\u00a0\u2003\u200b\u200c\u200d\u2060\ufeff\u200e"),
    st.characters(min_codepoint=0x0900, max_codepoint=0x097F),  # Devanagari
    st.characters(codec="utf-8"),
)
TEXT = st.text(ALPHABET, max_size=400)
SUFFIXES = sorted(SUPPORTED_SUFFIXES)

# Bytes, and bytes that are nearly the format: arbitrary bytes rarely get past the first check.
PREFIXES = [
    b"",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b'{"id": "x", "text": ',
    b'[{"title": 1, "text": "',
    b'<?xml version="1.0"?><rss version="2.0"><channel><item><description>',
    b"<html><body><p>",
    b"---\ntitle: ",
]
BYTES = st.one_of(
    st.binary(max_size=600),
    st.tuples(st.sampled_from(PREFIXES), st.binary(max_size=300)).map(b"".join),
    st.tuples(st.sampled_from(PREFIXES), TEXT).map(lambda p: p[0] + p[1].encode("utf-8", "surrogatepass")),
)


def rss(t: tuple[str, str, str]) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>{}</title><item><title>{}</title>'
        "<description>{}</description></item></channel></rss>".format(*map(escape, t))
    )


def atom(t: tuple[str, str, str]) -> str:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>{}</id>'
        "<title>{}</title><content>{}</content></entry></feed>".format(*map(escape, t))
    )


def html(t: tuple[str, str, str]) -> str:
    head, body = (
        "<html><head><title>{}</title></head>",
        "<body><article><h1>{}</h1><p>{}</p></article></body>",
    )
    return (head + body + "</html>").format(*t)


def jsonl(t: tuple[str, str, str]) -> str:
    return "\n".join(json.dumps({"id": str(i), "title": x, "text": x}) for i, x in enumerate(t))


# Well-formed files of each format around generated text, so that the readers get to their
# articles (through fields, entries and pages holding anything).
TEMPLATES = {
    ".json": lambda t: json.dumps({"id": t[0], "title": t[1], "text": t[2]}),
    ".jsonl": jsonl,
    ".xml": rss,
    ".rss": rss,
    ".atom": atom,
    ".html": html,
    ".htm": html,
    ".md": lambda t: "---\ntitle: {}\n---\n{}\n{}".format(*t),
    ".txt": "\n".join,
}


def files(suffix: str) -> st.SearchStrategy[bytes]:
    """Bytes for a file of ``suffix``: anything, or its format around anything."""
    template = TEMPLATES[suffix]
    return st.one_of(
        BYTES,
        st.tuples(TEXT, TEXT, TEXT).map(lambda t: template(t).encode("utf-8", "surrogatepass")),
    )


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("suffix", SUFFIXES)
@FAST
@given(data=st.data())
def test_any_bytes_give_articles_or_a_read_error(tmp_path, suffix, data):
    path = tmp_path / f"news{suffix}"
    path.write_bytes(data.draw(files(suffix), label="file"))
    try:
        result = read_file(path, max_bytes=10_000)
    except ReadError as err:
        assert err.path == str(path) and err.fix
        assert not err.reason.startswith(UNFORESEEN), err.reason
        return
    assert result.articles or result.problems
    for article in result.articles:
        assert article.id and article.text.strip()
        assert clean_text(article.text) == article.text  # stored text is clean: spans stay exact
    for problem in result.problems:
        assert problem.path == str(path) and problem.fix
        assert not problem.reason.startswith(UNFORESEEN), problem.reason


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_reads_as_one_clean_article_or_is_refused_as_empty(tmp_path, text):
    path = tmp_path / "news.txt"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        result = read_file(path, detect_language=False)
    except ReadError as err:
        assert err.reason in {
            "the file is empty",
            "no text left after removing markup",
            "it is a binary file, not text",  # a NUL character
        } or err.reason.startswith("it is not UTF-8 text"), err.reason  # a lone surrogate
        return
    [article] = result.articles
    assert not result.problems
    assert article.text and clean_text(article.text) == article.text
    assert clean_text(text).find(article.text) >= 0  # the body is the cleaned file, less the title


def four_chars_a_token(text: str) -> list[int]:
    return [0] * ((len(text) + 3) // 4)


@st.composite
def chunkings(draw):
    size = draw(st.integers(8, 64))
    return Chunker(four_chars_a_token, size, draw(st.integers(0, size - 1)))


# Article text as every reader leaves it: cleaned.
CLEAN_TEXT = TEXT.map(clean_text).filter(bool)


@settings(max_examples=200, deadline=None)
@given(text=CLEAN_TEXT, chunker=chunkings(), language=st.sampled_from(["en", "hi", ""]))
def test_chunk_spans_give_back_the_text_and_hold_their_sentences(text, chunker, language):
    article = Article(id="a", title="T", text=text, language=language)
    chunks = chunker.chunk(article)
    assert chunks
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.text == c.text.strip() and c.text
        # Its sentences: exact, in order, inside the chunk.
        for s in c.sentences:
            assert c.start <= s.start < s.end <= c.end and text[s.start : s.end] == s.text
        assert [s.start for s in c.sentences] == sorted(s.start for s in c.sentences)
    # From the first character to the last, each chunk starting after the previous one's start
    # and no later than its end but for blanks; joined, they give back the text.
    assert chunks[0].start == len(text) - len(text.lstrip())
    assert chunks[-1].end == len(text.rstrip())
    rebuilt, reach = chunks[0].text, chunks[0].end
    for prev, c in itertools.pairwise(chunks):
        assert prev.start < c.start
        if c.start > reach:
            gap = text[reach : c.start]
            assert gap.isspace(), (gap, c.text)
            rebuilt += gap + c.text
        else:
            rebuilt += c.text[reach - c.start :]
        reach = max(reach, c.end)
    assert rebuilt == text.strip()
    # Every sentence of the article lies in the chunks' sentences, whole or in pieces.
    covered = bytearray(len(text))
    for s in (s for c in chunks for s in c.sentences):
        covered[s.start : s.end] = b"\x01" * (s.end - s.start)
    for s in split_sentences(text, language):
        assert all(covered[i] or text[i].isspace() for i in range(s.start, s.end)), s.text
