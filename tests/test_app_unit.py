"""The web face's pure helpers: rendering, escaping, highlights, filters and feedback lines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from index.records import Passage, SearchFilters
from ingest.errors import ReadError
from ingest.pipeline import FileResult, IngestReport
from khabar.web.collection import read_facets, report_rows, save_uploads
from khabar.web.feedback import append_feedback, feedback_record, vote_from_like
from khabar.web.render import (
    Mark,
    answer_markdown,
    escape_markdown,
    locate_highlight,
    passage_html,
    safe_href,
    sources_html,
)
from khabar.web.stream import answer_events
from rag.types import Answer, Citation

HINDI_PASSAGE = (
    "किम जोंग उन और पुतिन के गठजोड़ को लेकर अमेरिका और दक्षिण कोरियाई अधिकारियों ने चिंता व्यक्त की है. "
    "इस बीच अमेरिकी विदेश विभाग ने कहा है अगर कोई नया हथियार सौदा होता है तो बाइडन प्रशासन "
    "मॉस्को और उत्तर कोरिया पर कोई भी अतिरिक्त प्रतिबंध लगाने में संकोच नहीं करेगा. "
    "अमेरिकी गृह विभाग के प्रवक्ता ने चिंता जताई."
)
HINDI_SENTENCE = (
    "इस बीच अमेरिकी विदेश विभाग ने कहा है अगर कोई नया हथियार सौदा होता है तो बाइडन प्रशासन "
    "मॉस्को और उत्तर कोरिया पर कोई भी अतिरिक्त प्रतिबंध लगाने में संकोच नहीं करेगा."
)
HOSTILE = (
    '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> '
    "[click](javascript:window.__pwned=1) **bold** $$x$$ &amp; ${x} {{y}}"
)


def citation(marker: int = 1, passage: str = HINDI_PASSAGE, sentence: str = HINDI_SENTENCE, **kw) -> Citation:
    start = passage.find(sentence)
    values = {
        "marker": marker,
        "article_id": "putin-kim-invitation-hi.txt",
        "chunk_id": "abc:2",
        "title": "Vladimir Putin North Korea Visit Invitation",
        "source": "",
        "published": "",
        "url": "",
        "language": "hi",
        "sentence": sentence,
        "start": 1000 + start,
        "end": 1000 + start + len(sentence),
        "passage": passage,
        "passage_start": 1000,
        "passage_end": 1000 + len(passage),
        "highlight": (start, start + len(sentence)),
        "score": 0.81,
    }
    values.update(kw)
    return Citation(**values)


def passage(text: str = HINDI_PASSAGE, **kw) -> Passage:
    values = {
        "chunk_id": "abc:2",
        "article_id": "a.txt",
        "content_hash": "abc",
        "title": "Title",
        "source": "",
        "url": "",
        "published": "",
        "language": "hi",
        "text": text,
        "start": 0,
        "end": len(text),
        "score": 0.79,
    }
    values.update(kw)
    return Passage(**values)


def answer_of(*cites: Citation) -> Answer:
    text = " ".join(f"{c.sentence} [{c.marker}]" for c in cites)
    return Answer("q", text, list(cites), declined=False)


def visible_text(html: str) -> str:
    """What a browser would show: tags dropped, entities decoded."""
    import html as html_mod

    return html_mod.unescape(re.sub(r"<[^>]+>", "", html))


# --- escaping ---------------------------------------------------------------------------------


def test_escape_markdown_escapes_every_ascii_punctuation_mark():
    out = escape_markdown(HOSTILE)
    assert "<" not in out.replace("\\<", "")
    assert "[" not in out.replace("\\[", "")
    assert "(" not in out.replace("\\(", "")
    assert "*" not in out.replace("\\*", "")
    assert "$" not in out.replace("\\$", "")
    # Removing the escapes gives the original back: nothing is lost, only neutralised.
    assert re.sub(r"\\(.)", r"\1", out) == HOSTILE


def test_escape_markdown_leaves_devanagari_alone():
    assert escape_markdown("अमेरिकी विदेश विभाग ने कहा।") == "अमेरिकी विदेश विभाग ने कहा।"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil.example/x",
        "http://x.example/a b",
        'https://x.example/"onmouseover="alert(1)',
        "https://x.example/<script>",
        "",
    ],
)
def test_safe_href_refuses_anything_but_plain_http_links(url):
    assert safe_href(url) is None


def test_safe_href_escapes_a_good_url():
    assert safe_href("https://news.example/a?x=1&y=2") == "https://news.example/a?x=1&amp;y=2"


def test_hostile_citation_is_text_in_sources_and_chat():
    hostile = citation(
        passage=f"Before. {HOSTILE} after.",
        sentence=f"{HOSTILE} after.",
        title="<img src=x onerror=alert(1)>Title",
        source="<b>Wire</b>",
        url="javascript:alert(1)",
        article_id='"><script>x</script>',
        language='hi" onmouseover="x',
    )
    ans = answer_of(hostile)
    html_out = sources_html(ans, "t1")
    assert "<script" not in html_out and "<img" not in html_out and "<b>" not in html_out
    assert "href=" not in html_out  # a javascript: url never becomes a link
    assert "onmouseover" not in html_out.replace("onmouseover=&quot;", "")
    assert ' lang="' not in html_out  # a malformed language code is not put in an attribute
    shown = visible_text(html_out)
    assert "<script>window.__pwned=1</script>" in shown
    assert "<img src=x onerror=alert(1)>Title" in shown
    assert "[click](javascript:window.__pwned=1)" in shown
    md = answer_markdown(ans, "t1")
    assert re.search(r"(?<!\\)[<>]", md) is None  # every angle bracket is escaped
    links = re.findall(r"(?<!\\)\]\(([^ ]*)", md)
    assert links == ["#t1-src-1"]  # the only link is our own marker


def test_url_is_a_link_only_when_http():
    ok = sources_html(answer_of(citation(url="https://news.example/story?id=1&x=2")), "t1")
    assert 'href="https://news.example/story?id=1&amp;x=2"' in ok
    assert 'rel="noopener noreferrer nofollow"' in ok


# --- highlights -------------------------------------------------------------------------------


def test_highlight_wraps_exactly_the_cited_devanagari_sentence():
    c = citation()
    html_out = sources_html(answer_of(c), "t1")
    marked = re.search(r'<mark class="khabar-hl" id="t1-src-1"[^>]*>(.*?)<sup', html_out)
    assert marked is not None
    assert marked.group(1) == HINDI_SENTENCE
    assert "अमेरिकी विदेश विभाग" in marked.group(1)
    # The whole passage is still shown, once, in order.
    assert visible_text(html_out).count("अमेरिकी गृह विभाग") == 1
    assert visible_text(html_out).replace("[1]", "").endswith(HINDI_PASSAGE[-20:])


def test_highlight_span_is_in_code_points_not_bytes():
    start = HINDI_PASSAGE.find(HINDI_SENTENCE)
    assert locate_highlight(HINDI_PASSAGE, HINDI_SENTENCE, (start, start + len(HINDI_SENTENCE))) == (
        start,
        start + len(HINDI_SENTENCE),
    )
    assert len(HINDI_SENTENCE.encode()) != len(HINDI_SENTENCE)


def test_highlight_falls_back_to_finding_the_sentence_when_the_span_is_off():
    start = HINDI_PASSAGE.find(HINDI_SENTENCE)
    where = locate_highlight(HINDI_PASSAGE, HINDI_SENTENCE, (start + 3, start + 10))
    assert where == (start, start + len(HINDI_SENTENCE))
    assert locate_highlight("abc", "zzz", (5, 9)) is None


def test_two_citations_in_one_passage_share_one_card():
    first = "किम जोंग उन और पुतिन के गठजोड़ को लेकर अमेरिका और दक्षिण कोरियाई अधिकारियों ने चिंता व्यक्त की है."
    html_out = sources_html(answer_of(citation(1), citation(2, sentence=first)), "t1")
    assert html_out.count('<article class="khabar-source"') == 1
    assert 'id="t1-src-1"' in html_out and 'id="t1-src-2"' in html_out
    assert html_out.index('id="t1-src-2"') < html_out.index('id="t1-src-1"')  # passage order


def test_overlapping_marks_never_duplicate_or_break_text():
    text = "<a> one two three"
    out = passage_html(text, [Mark(0, 9, 1), Mark(4, 12, 2), Mark(20, 30, 3)], "p")
    assert visible_text(out).replace("[1]", "") == text
    assert "<a>" not in out


def test_marker_link_hover_names_article_and_sentence():
    md = answer_markdown(answer_of(citation()), "t3")
    assert md.count("](#t3-src-1 ") == 1
    title = md.split('(#t3-src-1 "', 1)[1]
    assert "Vladimir Putin North Korea Visit Invitation" in title and "अमेरिकी विदेश विभाग" in title


def test_declined_answer_says_so_and_shows_the_passages_looked_at():
    ans = Answer("q", "I could not find anything.", [], declined=True, reason="below", passages=[passage()])
    md = answer_markdown(ans, "t1")
    assert md.startswith("**No answer.**") and "closest passages" in md
    html_out = sources_html(ans, "t1")
    assert "closest passages looked at" in html_out and "अमेरिकी विदेश विभाग" in html_out
    # The score is not called a similarity: with the defaults it is a reranked blend, else RRF or BM25.
    p = passage()
    assert f"rank {p.rank} · score {p.score:.3g}" in html_out and "similarity" not in html_out
    assert "<mark" not in html_out
    empty = sources_html(Answer("q", "x", [], declined=True, passages=[]), "t1")
    assert "No passage matched" in empty


# --- filters, uploads, ingest results ---------------------------------------------------------


def test_facets_are_an_aggregate_of_the_stored_chunks(tmp_path):
    from index.lexical import LexicalIndex

    rows = [
        ("a", "a:0", {"language": "hi", "source": "", "published": ""}),
        ("a", "a:1", {"language": "hi", "source": "", "published": ""}),
        ("b", "b:0", {"language": "en", "source": "Wire", "published": "2023-09-14T10:00:00"}),
        ("c", "c:0", {"language": "en", "source": "agency", "published": "2023-09-02"}),
        ("d", "d:0", {"language": "en", "source": "agency", "published": "14 Sep 2023"}),  # not a day
    ]
    with LexicalIndex(tmp_path / "lexical") as lexical:
        for content_hash in dict.fromkeys(h for h, _, _ in rows):  # one write per article content
            chunks = [
                (cid, "words here", {**m, "content_hash": h}) for h, cid, m in rows if h == content_hash
            ]
            lexical.add(content_hash, chunks)
        stats = lexical.stats()

        class Stored:
            def stats(self):
                return stats

        f = read_facets(Stored())  # type: ignore[arg-type]
    assert f.languages == ["en", "hi"] and f.sources == ["agency", "Wire"]
    assert (f.first_date, f.last_date, f.articles, f.chunks) == ("2023-09-02", "2023-09-14", 4, 5)
    assert f.has_dates
    with LexicalIndex(tmp_path / "empty") as empty:
        stats = empty.stats()
    assert not read_facets(Stored()).has_dates  # type: ignore[arg-type]
    assert read_facets(Stored()).language_choices == ["en", "hi"]  # Hindi and English first


def test_filters_from_user_input_check_dates():
    make_filters = SearchFilters.parse  # the one parser the web fields and the CLI options share
    assert make_filters(["en"], [], "2023-09-01", "") == SearchFilters(["en"], [], "2023-09-01", "")
    assert make_filters(None, None, None, None).is_empty()
    for bad in ("2023-9-1", "yesterday", "2023-02-30"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            make_filters([], [], bad, "")
    with pytest.raises(ValueError, match="after"):
        make_filters([], [], "2023-10-01", "2023-09-01")


def test_save_uploads_keeps_only_the_file_name(tmp_path):
    src = tmp_path / "up" / "story.txt"
    src.parent.mkdir()
    src.write_text("hello", encoding="utf-8")
    saved = save_uploads([str(src)], tmp_path / "data" / "uploads")
    assert saved == [tmp_path / "data" / "uploads" / "story.txt"]
    assert saved[0].read_text(encoding="utf-8") == "hello"


def test_report_rows_give_reason_and_fix():
    report = IngestReport(
        files=[
            FileResult("/d/ok.txt", "ingested", articles=1, chunks=2),
            FileResult(
                "/d/feed.jsonl",
                "partial",
                articles=1,
                chunks=1,
                problems=[
                    ReadError("/d/feed.jsonl", "no text", "add a text field", record="line 2"),
                    ReadError("/d/feed.jsonl", "bad json", "fix the line", record="line 3"),
                ],
            ),
        ]
    )
    assert report_rows(report) == [
        ["ok.txt", "ingested", 1, 2, "", ""],
        ["feed.jsonl", "partial", 1, 1, "line 2: no text", "add a text field"],
        ["feed.jsonl", "", "", "", "line 3: bad json", "fix the line"],
    ]


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_line_format(tmp_path):
    ans = answer_of(citation())
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = feedback_record("What did the US State Department warn?", ans.to_dict(), 1, "news", when)
    path = tmp_path / "feedback.jsonl"
    append_feedback(path, record)
    append_feedback(path, {**record, "vote": -1})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {
        "timestamp": "2024-01-02T03:04:05+00:00",
        "index": "news",
        "question": "What did the US State Department warn?",
        "answer": ans.text,
        "declined": False,
        "citations": [
            {
                "marker": 1,
                "article_id": "putin-kim-invitation-hi.txt",
                "chunk_id": "abc:2",
                "sentence": HINDI_SENTENCE,
                "span": [ans.citations[0].start, ans.citations[0].end],
            }
        ],
        "vote": 1,
    }
    assert "अमेरिकी" in lines[0]  # kept readable, not \u-escaped
    assert json.loads(lines[1])["vote"] == -1


def test_vote_from_gradio_like_data():
    assert (vote_from_like(True), vote_from_like(False), vote_from_like("")) == (1, -1, 0)


# --- streaming seam ---------------------------------------------------------------------------


def test_answer_events_stream_when_the_service_streams():
    final = answer_of(citation())

    class Streaming:
        def ask_stream(self, question, filters, history):
            yield "इस बीच "
            yield "अमेरिकी"
            yield final

    class Plain:
        def ask(self, question, filters, history):
            assert history == ["earlier"]
            return final

    assert list(answer_events(Streaming(), "q", None, [])) == ["इस बीच ", "अमेरिकी", final]
    assert list(answer_events(Plain(), "q", None, ["earlier"])) == [final]
