import json
import os
from pathlib import Path

import pytest

from ingest.clean import clean_text
from ingest.errors import ReadError
from ingest.sources.dates import normalise_date
from ingest.sources.discovery import SUPPORTED_SUFFIXES, iter_files, iter_sources
from ingest.sources.dispatch import read_file
from ingest.sources.source import ReadResult
from ingest.sources.titles import derive_title
from khabar import settings
from tests.factories import within

CORPUS_FILE = Path(__file__).resolve().parent.parent / "corpus" / "putin-kim-invitation-hi.txt"

HINDI_BODY = (
    "असम राज्य आपदा प्रबंधन प्राधिकरण की रिपोर्ट के अनुसार धेमाजी और लखीमपुर में सर्वाधिक लोग "
    "प्रभावित हुए हैं। पूर्वोत्तर के कई राज्यों में लगातार हो रही बारिश से असम में बाढ़ की स्थिति "
    "गंभीर हो गई है।"
)

HTML_PAGE = f"""<!DOCTYPE html>
<html lang="hi"><head><meta charset="utf-8">
<title>बाढ़ से असम में एक लाख लोग प्रभावित | Khabar News</title>
<meta property="og:title" content="बाढ़ से असम में एक लाख लोग प्रभावित">
<meta property="og:site_name" content="Khabar News">
<link rel="canonical" href="https://news.example.org/assam-flood">
<meta property="article:published_time" content="2023-07-05T08:30:00+05:30">
</head><body>
<nav><ul><li><a href="/">होम</a></li><li><a href="/sports">खेल</a></li>
<li><a href="/login">Login / Subscribe now</a></li></ul></nav>
<article><h1>बाढ़ से असम में एक लाख लोग प्रभावित</h1>
<p>{HINDI_BODY}</p>
<p>प्रशासन ने राहत शिविर खोले हैं और एनडीआरएफ़ की टीमें तैनात की गई हैं। मुख्यमंत्री ने हालात की समीक्षा की।</p>
</article>
<footer><p>Copyright 2023 Khabar News. All rights reserved. Privacy policy</p></footer>
</body></html>
"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Khabar &amp; Co</title><link>https://news.example.org/</link><language>hi-IN</language>
<item>
  <title>पुतिन ने किम का न्योता स्वीकार किया</title>
  <link>https://news.example.org/a1</link>
  <guid isPermaLink="false">urn:khabar:a1</guid>
  <pubDate>Thu, 14 Sep 2023 10:00:00 +0530</pubDate>
  <category>World</category><category>Asia</category>
  <description>&lt;p&gt;रूस के राष्ट्रपति &lt;b&gt;व्लादिमीर पुतिन&lt;/b&gt; ने न्योता स्वीकार किया।&lt;/p&gt;
  &lt;p&gt;दूसरा अनुच्छेद।&lt;/p&gt;</description>
</item>
<item>
  <title>No guid here</title>
  <link>https://news.example.org/a2</link>
  <description>Only a link identifies this story about the monsoon session.</description>
</item>
<item><title>Headline without any text</title><guid>urn:khabar:empty</guid></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Wire</title><id>urn:atom-wire</id><updated>2023-09-14T10:00:00Z</updated>
  <entry>
    <title type="html">Floods &lt;em&gt;hit&lt;/em&gt; Assam</title>
    <id>tag:example.org,2023:flood</id>
    <link href="https://example.org/flood"/>
    <updated>2023-09-14T10:00:00Z</updated>
    <published>2023-09-13T08:00:00+05:30</published>
    <summary>Short teaser.</summary>
    <content type="html">&lt;p&gt;Floods hit six districts of Assam on Wednesday.&lt;/p&gt;
    &lt;p&gt;Relief camps opened.&lt;/p&gt;</content>
  </entry>
</feed>
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only(result: ReadResult):
    assert isinstance(result, ReadResult)
    assert result.problems == []
    assert len(result.articles) == 1
    return result.articles[0]


@pytest.fixture(autouse=True)
def _fresh_settings():
    settings.reset()
    yield
    settings.reset()


# --- plain text and Markdown -------------------------------------------------------------------------


def test_corpus_file_reads_to_one_hindi_article():
    article = only(read_file(CORPUS_FILE))
    assert article.title == "Vladimir Putin North Korea Visit Invitation"
    assert article.language == "hi"
    assert article.id == "putin-kim-invitation-hi.txt"
    assert article.path == str(CORPUS_FILE)
    # Derived title: the text is the whole file, so citation spans point at the real text.
    assert article.text == clean_text(CORPUS_FILE.read_text(encoding="utf-8"))
    assert article.text.startswith("Vladimir Putin North Korea Visit Invitation: रूस (Russia)")
    assert article.text.count("\n") == 4  # five paragraphs, one per line


def test_txt_short_first_line_is_the_title(tmp_path):
    path = write(
        tmp_path / "sub" / "budget.txt", "  Budget passed  \n\n\nThe council approved it.\n\nVotes: 12-3.\n"
    )
    article = only(read_file(path, root=tmp_path))
    assert article.title == "Budget passed"
    assert article.text == "The council approved it.\nVotes: 12-3."
    assert article.id == "sub/budget.txt"
    assert article.path == os.path.abspath(path)
    assert article.language == "en"


def test_txt_id_defaults_to_file_name(tmp_path):
    article = only(read_file(write(tmp_path / "a.txt", "Title\nSome body text for the story.")))
    assert article.id == "a.txt"


def test_txt_one_long_line_without_headline_gets_first_sentence(tmp_path):
    sentence = "The monsoon session of parliament " + "opened with a long debate on prices " * 4
    path = write(tmp_path / "long.txt", sentence.strip() + ". Second sentence follows here.")
    article = only(read_file(path))
    assert article.title.endswith("…")
    assert len(article.title) <= 101
    assert article.text.startswith(article.title[:-1])
    assert article.text.endswith("Second sentence follows here.")


def test_txt_dateline_before_colon_is_not_a_title(tmp_path):
    body = "जागरण संवाददाता, नई दिल्ली: " + HINDI_BODY * 2
    article = only(read_file(write(tmp_path / "d.txt", body)))
    assert article.title.startswith("असम राज्य आपदा प्रबंधन प्राधिकरण")
    assert article.title.endswith("…") and len(article.title) <= 101
    assert article.text == body


def test_markdown(tmp_path):
    md = (
        "# Floods in **Assam**\n\n"
        "Heavy rain hit *six* districts, says the [state authority](https://asdma.example/report).\n\n"
        "- Relief camps opened\n"
        "- Army called in\n"
    )
    article = only(read_file(write(tmp_path / "flood.md", md)))
    assert article.title == "Floods in Assam"
    assert article.text == (
        "Heavy rain hit six districts, says the state authority.\nRelief camps opened\nArmy called in"
    )


def test_markdown_front_matter(tmp_path):
    md = (
        '---\ntitle: "Rain returns to Delhi"\ndate: 2023-07-05\nsource: Wire\n---\n'
        "# Rain returns to Delhi\n\nThe capital saw heavy showers on Wednesday evening.\n"
    )
    article = only(read_file(write(tmp_path / "rain.md", md)))
    assert article.title == "Rain returns to Delhi"
    assert article.text == "The capital saw heavy showers on Wednesday evening."
    assert article.published == "2023-07-05"
    assert article.source == "Wire"


def test_language_detection_can_be_turned_off(tmp_path):
    path = write(tmp_path / "a.txt", "Title\nThe council approved the budget.")
    assert only(read_file(path)).language == "en"  # detected by default
    assert only(read_file(path, detect_language=False)).language == ""


def test_language_detection_does_not_read_the_global_settings(tmp_path):
    settings.configure(language_detection=False)
    path = write(tmp_path / "a.txt", "Title\nThe council approved the budget.")
    assert only(read_file(path)).language == "en"


# --- HTML -----------------------------------------------------------------------------------------


def test_html_main_text_and_metadata(tmp_path):
    article = only(read_file(write(tmp_path / "page.html", HTML_PAGE)))
    assert article.title == "बाढ़ से असम में एक लाख लोग प्रभावित"
    assert article.text.startswith(HINDI_BODY)  # the <h1> is not repeated in the text
    assert "मुख्यमंत्री ने हालात की समीक्षा की।" in article.text
    for boilerplate in ("Login", "Subscribe", "होम", "खेल", "All rights reserved", "Privacy"):
        assert boilerplate not in article.text
    assert article.published == "2023-07-05"
    assert article.url == "https://news.example.org/assam-flood"
    assert article.source == "Khabar News"
    assert article.language == "hi"
    assert article.id == "page.html"


def test_html_without_article_text(tmp_path):
    path = write(
        tmp_path / "empty.htm",
        "<html><head><title>x</title></head><body><script>var a = 1;</script></body></html>",
    )
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert "no article text found" in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.fix


# --- JSON and JSONL -------------------------------------------------------------------------------


def test_json_list(tmp_path):
    records = [
        {
            "id": 101,
            "title": "Putin accepts Kim's invitation",
            "text": "<p>Russian President Vladimir Putin accepted an invitation to visit North Korea.</p>",
            "language": "English",
            "source": "Wire",
            "category": ["World", "Asia"],
            "url": "https://example.org/101",
            "published": "Thu, 14 Sep 2023 10:00:00 +0530",
            "author": "Staff",
            "views": 12,
        },
        {"text": "नई दिल्ली\nसंसद का मानसून सत्र सोमवार से शुरू होगा और इसमें कई विधेयक पेश किए जाएंगे।"},
    ]
    result = read_file(
        write(tmp_path / "data" / "news.json", json.dumps(records, ensure_ascii=False)), tmp_path
    )
    assert result.problems == []
    first, second = result.articles
    assert first.id == "101"
    assert first.text == "Russian President Vladimir Putin accepted an invitation to visit North Korea."
    assert first.language == "en"
    assert first.category == "World, Asia"
    assert first.published == "2023-09-14T04:30:00+00:00"
    assert first.extra == {"author": "Staff", "views": "12"}
    assert second.id == "data/news.json#2"
    assert second.title == "संसद का मानसून सत्र सोमवार से शुरू होगा और इसमें कई विधेयक पेश किए जाएंगे।"
    assert second.text.startswith("नई दिल्ली\n")  # a derived title leaves the text whole
    assert second.language == "hi"


def test_json_single_object(tmp_path):
    record = {
        "id": "x1",
        "title": "T",
        "text": "Body of the story.",
        "language": "hi-IN",
        "published": "2023-07-05",
    }
    article = only(read_file(write(tmp_path / "one.json", json.dumps(record))))
    assert (article.id, article.language, article.published) == ("x1", "hi", "2023-07-05")


def test_json_articles_wrapper_and_all_bad_records(tmp_path):
    wrapped = {"articles": [{"id": "w1", "text": "A wrapped story about rain in Delhi."}]}
    assert [a.id for a in read_file(write(tmp_path / "w.json", json.dumps(wrapped))).articles] == ["w1"]
    result = read_file(write(tmp_path / "bad.json", json.dumps([{"id": "e", "text": ""}, 7])))
    assert result.articles == []
    assert [p.record for p in result.problems] == ["item 1", "item 2"]


def test_json_invalid_whole_file(tmp_path):
    path = write(tmp_path / "bad.json", '[{"id": "a", "text": "x"},')
    with pytest.raises(ReadError) as info:
        read_file(path)
    message = str(info.value)
    assert str(path) in message and "not valid JSON" in message and "line 1" in message
    assert "fix the JSON" in info.value.fix


def test_jsonl_bad_records_do_not_lose_good_ones(tmp_path):
    lines = [
        json.dumps({"id": "a", "title": "First", "text": "First story about the monsoon.", "language": "en"}),
        '{"id": "broken", "text": "unterminated',
        json.dumps({"id": "c", "title": "Empty", "text": "  <p></p> "}),
        "",
        json.dumps(
            {"id": "d", "title": "Fourth", "text": "Fourth story about the budget.", "language": "en"}
        ),
        json.dumps({"id": "a", "title": "Again", "text": "Same id again.", "language": "en"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"title": "No id", "text": "A story without an id.", "language": "en"}),
    ]
    path = write(tmp_path / "news.jsonl", "\n".join(lines) + "\n")
    result = read_file(path)
    assert [a.id for a in result.articles] == ["a", "d", "news.jsonl#8"]
    assert [p.record for p in result.problems] == ["line 2", "line 3", "line 6", "line 7"]
    broken, empty, duplicate, not_object = result.problems
    assert "not valid JSON" in broken.reason
    assert "empty" in empty.reason
    assert "duplicate id 'a'" in duplicate.reason and "line 1" in duplicate.reason
    assert "not an article object" in not_object.reason
    for problem in result.problems:
        assert str(path) in str(problem)
        assert problem.fix and problem.fix in str(problem)


@pytest.mark.parametrize(
    ("record", "field", "kind"),
    [
        ({"id": "n", "text": 12345}, "text", "a number"),
        ({"id": "l", "text": ["a", "b"]}, "text", "a list"),
        ({"id": "o", "body": {"p": "Nested story text."}}, "body", "an object"),
        ({"id": {"k": 1}, "text": "A story about rain."}, "id", "an object"),
        ({"id": True, "text": "A story about rain."}, "id", "true or false"),
        ({"id": 1.5, "text": "A story about rain."}, "id", "a number"),
        ({"id": "t", "title": False, "text": "A story about rain."}, "title", "true or false"),
        ({"id": "u", "text": "A story about rain.", "url": ["https://a.example"]}, "url", "a list"),
        ({"id": "c", "text": "A story about rain.", "category": ["World", 3]}, "category", "a list"),
        ({"id": "d", "text": "A story about rain.", "published": {"y": 2023}}, "published", "an object"),
    ],
)
def test_json_fields_of_the_wrong_type_are_refused_by_name(tmp_path, record, field, kind):
    """A number or a list where the text should be would be stored as an article "12345" or
    "a, b"; such a record is a problem naming the record and the field, and the others are read."""
    good = {"id": "good", "text": "A good story about the monsoon."}
    path = write(tmp_path / "news.jsonl", "\n".join(json.dumps(r) for r in (good, record)) + "\n")
    result = read_file(path)
    assert [a.id for a in result.articles] == ["good"]
    [problem] = result.problems
    assert problem.record == "line 2"
    assert f'"{field}" is {kind}' in problem.reason
    assert problem.fix and str(path) in str(problem)


def test_json_ids_may_be_integers_and_dates_unix_seconds(tmp_path):
    records = [
        {"id": 7, "text": "A story about rain.", "published": 1694665800, "category": ["World", "Asia"]},
        {"id": "s", "title": None, "text": "Another story about rain.", "url": None},
    ]
    first, second = read_file(write(tmp_path / "news.json", json.dumps(records))).articles
    assert (first.id, first.published, first.category) == ("7", "2023-09-14T04:30:00+00:00", "World, Asia")
    assert (second.id, second.url) == ("s", "")


def test_jsonl_keeps_line_separator_inside_strings(tmp_path):
    text = "Line one\u2028still the same record."
    article = only(
        read_file(write(tmp_path / "x.jsonl", json.dumps({"id": "s", "text": text}, ensure_ascii=False)))
    )
    assert article.text == "Line one\nstill the same record."


# --- feeds ----------------------------------------------------------------------------------------


def test_rss_feed(tmp_path):
    result = read_file(write(tmp_path / "feed.rss", RSS))
    first, second = result.articles
    assert first.id == "urn:khabar:a1"
    assert first.title == "पुतिन ने किम का न्योता स्वीकार किया"
    assert first.text == "रूस के राष्ट्रपति व्लादिमीर पुतिन ने न्योता स्वीकार किया।\nदूसरा अनुच्छेद।"
    assert first.url == "https://news.example.org/a1"
    assert first.published == "2023-09-14T04:30:00+00:00"
    assert first.source == "Khabar & Co"
    assert first.category == "World, Asia"
    assert first.language == "hi"  # the feed's "hi-IN"
    assert second.id == "https://news.example.org/a2"
    assert second.published == ""
    [problem] = result.problems
    assert problem.record == "entry 3"
    assert "no text" in problem.reason


def test_atom_feed(tmp_path):
    article = only(read_file(write(tmp_path / "wire.atom", ATOM)))
    assert article.id == "tag:example.org,2023:flood"
    assert article.title == "Floods hit Assam"
    assert article.text == "Floods hit six districts of Assam on Wednesday.\nRelief camps opened."
    assert article.published == "2023-09-13T02:30:00+00:00"
    assert article.source == "Atom Wire"
    assert article.url == "https://example.org/flood"
    assert article.language == "en"


def test_feed_duplicate_guid(tmp_path):
    item = "<item><guid>same</guid><title>{0}</title><description>Story {0} text.</description></item>"
    items = item.format(1) + item.format(2)
    rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    result = read_file(write(tmp_path / "dup.xml", rss))
    assert [a.title for a in result.articles] == ["1"]
    [problem] = result.problems
    assert problem.record == "entry 2" and "duplicate id 'same'" in problem.reason


def test_malformed_xml(tmp_path):
    path = write(tmp_path / "broken.xml", "<?xml version='1.0'?><rss><channel><title>x</title></item></rss>")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert "not a well-formed feed" in info.value.reason
    assert str(path) in str(info.value) and info.value.fix


def test_truncated_feed_keeps_complete_entries(tmp_path):
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>One</title><guid>g1</guid><description>Complete first story text.</description></item>"
        "<item><title>Two</title><description>cut sho"
    )
    result = read_file(write(tmp_path / "cut.xml", rss))
    assert [a.id for a in result.articles] == ["g1"]
    assert any(
        "not well-formed" in p.reason and "recovered 1 entry, which was read" in p.reason
        for p in result.problems
    )


def test_xml_that_is_not_a_feed(tmp_path):
    path = write(
        tmp_path / "sitemap.xml", "<?xml version='1.0'?><urlset><url><loc>http://x</loc></url></urlset>"
    )
    with pytest.raises(ReadError, match="no feed entries"):
        read_file(path)


# --- files that cannot be read --------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_file(tmp_path, content):
    path = write(tmp_path / "empty.txt", content)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.reason == "the file is empty"
    assert str(path) in str(info.value) and info.value.fix


def test_binary_file(tmp_path):
    path = write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert "binary" in info.value.reason
    assert ".txt" in info.value.fix


def test_latin1_file(tmp_path):
    path = write(tmp_path / "latin.txt", "Café society\nLe président a parlé à Paris.".encode("latin-1"))
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert "not UTF-8" in info.value.reason
    assert "0xE9" in info.value.reason
    assert "save the file as UTF-8" in info.value.fix


def test_utf8_bom_and_utf16_are_read(tmp_path):
    text = "शीर्षक\nयह समाचार का पाठ है।"
    for name, data in [("bom.txt", text.encode("utf-8-sig")), ("u16.txt", text.encode("utf-16"))]:
        article = only(read_file(write(tmp_path / name, data)))
        assert (article.title, article.text) == ("शीर्षक", "यह समाचार का पाठ है।")


def test_unsupported_suffix_in_read_file(tmp_path):
    with pytest.raises(ReadError, match="not supported"):
        read_file(write(tmp_path / "a.pdf", b"%PDF-1.4"))


def test_missing_file(tmp_path):
    with pytest.raises(ReadError) as info:
        read_file(tmp_path / "nope.txt")
    assert "cannot read it" in info.value.reason


def test_special_files_are_refused_without_being_read(tmp_path):
    """A named pipe would block the read forever and /dev/zero would fill the memory: only
    regular files are read."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.txt"
    zero.symlink_to("/dev/zero")
    for path, kind in [(fifo, "a named pipe"), (zero, "a character device")]:
        with pytest.raises(ReadError) as info:
            within(5, lambda path=path: read_file(path))
        assert f"it is {kind}, not a regular file" in info.value.reason
        assert info.value.fix and str(path) in str(info.value)


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(tmp_path):
    path = write(tmp_path / "big.txt", "Title\n" + "A long story about the monsoon. " * 10)
    with pytest.raises(ReadError) as info:
        read_file(path, max_bytes=100)
    assert "over the limit of 100 bytes" in info.value.reason and "max_file_bytes" in info.value.fix
    assert only(read_file(path, max_bytes=len(path.read_bytes()))).title == "Title"


def test_deeply_nested_json_is_a_problem_not_a_crash(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ReadError) as info:
        read_file(write(tmp_path / "deep.json", deep))
    assert "nested too deeply" in info.value.reason and info.value.fix
    good = json.dumps({"id": "good", "text": "A good story about the monsoon."})
    result = read_file(write(tmp_path / "deep.jsonl", f"{good}\n{deep}\n"))
    assert [a.id for a in result.articles] == ["good"]
    [problem] = result.problems
    assert problem.record == "line 2" and "nested too deeply" in problem.reason


def test_a_reader_failing_unexpectedly_is_a_problem_of_its_file(tmp_path, monkeypatch):
    from ingest.sources import dispatch

    def broken(source, data):
        raise ValueError("parser bug")

    monkeypatch.setitem(dispatch._READERS, ".html", broken)
    with pytest.raises(ReadError) as info:
        read_file(write(tmp_path / "page.html", "<p>text</p>"))
    assert "ValueError: parser bug" in info.value.reason and info.value.fix


# --- finding files --------------------------------------------------------------------------------


def test_iter_files_walks_sorted_skipping_hidden_and_unsupported(tmp_path):
    for name in ["b.txt", "a.md", "z/c.json", "z/d.pdf", ".hidden.txt", ".git/e.txt", "y/f.HTML", "y/g"]:
        write(tmp_path / name, "x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == ["a.md", "b.txt", "y/f.HTML", "z/c.json"]


def test_iter_sources_gives_roots_and_dedupes(tmp_path):
    a = write(tmp_path / "in" / "a.txt", "x")
    pairs = list(iter_sources([tmp_path / "in", a]))
    assert pairs == [(a, tmp_path / "in")]
    assert list(iter_sources([a])) == [(a, a.parent)]


def test_iter_files_named_unsupported_file(tmp_path):
    path = write(tmp_path / "report.pdf", b"%PDF")
    with pytest.raises(ReadError) as info:
        list(iter_files([path]))
    assert "'.pdf' files are not supported" in info.value.reason
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in info.value.fix


def test_iter_files_fails_before_yielding_on_missing_path(tmp_path):
    write(tmp_path / "a.txt", "x")
    with pytest.raises(ReadError, match="no such file or folder"):
        next(iter_files([tmp_path, tmp_path / "missing"]))


def collect(paths: list[Path]) -> tuple[list[str], dict[str, str]]:
    """(files found, relative to their root; {file name: problem reason}) for a walk that goes on."""
    problems: list[ReadError] = []
    found = [f"{file.relative_to(root).as_posix()}" for file, root in iter_sources(paths, problems.append)]
    return found, {Path(p.path).name: p.reason for p in problems}


def test_links_leaving_the_folder_are_reported_not_followed(tmp_path):
    news = tmp_path / "news"
    write(news / "a.txt", "x")
    write(news / "sub" / "b.txt", "x")
    secret = write(tmp_path / "secret.txt", "root:x:0:0")
    (news / "passwd.txt").symlink_to(secret)
    (news / "inside.txt").symlink_to(news / "sub" / "b.txt")  # stays in the folder: read
    (news / "loop.txt").symlink_to(news / "loop.txt")
    (news / "gone.txt").symlink_to(news / "missing.txt")
    (news / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    found, problems = collect([news])
    assert found == ["a.txt", "inside.txt", "sub/b.txt"]
    assert set(problems) == {"passwd.txt", "loop.txt", "gone.txt", "elsewhere"}
    assert f"a link to {secret}, outside the folder being ingested" in problems["passwd.txt"]
    assert "loops" in problems["loop.txt"]
    assert "does not exist" in problems["gone.txt"]
    assert "outside the folder being ingested" in problems["elsewhere"]
    # Without somewhere to report to, a walk problem is raised.
    with pytest.raises(ReadError, match="outside the folder"):
        list(iter_sources([news]))


def test_a_link_named_on_the_command_line_is_followed(tmp_path):
    target = write(tmp_path / "archive" / "story.txt", "x")
    (tmp_path / "today.txt").symlink_to(target)
    assert collect([tmp_path / "today.txt"]) == (["today.txt"], {})


def test_an_unreadable_folder_is_reported(tmp_path, monkeypatch):
    """Tests run as root, where chmod 000 stops nothing: the walk's listing is refused instead."""
    news = tmp_path / "news"
    write(news / "a.txt", "x")
    locked = news / "locked"
    write(locked / "b.txt", "x")
    real_scandir = os.scandir

    def scandir(path="."):
        if isinstance(path, str | os.PathLike) and Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found, problems = collect([news])
    assert found == ["a.txt"]
    assert "cannot read the folder (Permission denied)" in problems["locked"]


def test_a_named_file_that_cannot_be_reached_is_a_read_error(tmp_path, monkeypatch):
    path = write(tmp_path / "locked" / "b.txt", "x")
    real_stat = os.stat

    def stat(target, *args, **kwargs):
        if Path(target) == path:
            raise PermissionError(13, "Permission denied", str(target))
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    with pytest.raises(ReadError) as info:
        list(iter_sources([path]))
    assert "Permission denied" in info.value.reason and info.value.fix


def test_named_special_files_and_loops_say_what_they_are(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    for path, reason in [(fifo, "it is a named pipe, not a regular file"), (loop, "loops")]:
        with pytest.raises(ReadError) as info:
            list(iter_sources([path]))
        assert reason in info.value.reason


# --- helpers --------------------------------------------------------------------------------------


def test_derive_title_skips_dateline():
    assert (
        derive_title("New York CNN —\nSquid Game is coming back.\nMore text.") == "Squid Game is coming back."
    )


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2023-09-14", "2023-09-14"),
        ("2023-09-14T10:00:00Z", "2023-09-14T10:00:00+00:00"),
        ("2023-09-14T01:00:00+05:30", "2023-09-13T19:30:00+00:00"),  # the UTC day
        ("2023-09-14 10:00", "2023-09-14T10:00:00+00:00"),  # no zone: UTC
        ("Thu, 14 Sep 2023 10:00:00 +0530", "2023-09-14T04:30:00+00:00"),
        ("14 September 2023", "2023-09-14"),
        ("Sep 14, 2023", "2023-09-14"),
        ("1694685600", "2023-09-14T10:00:00+00:00"),
        ("09/10/2023", "09/10/2023"),  # ambiguous: kept as given
        (" yesterday ", "yesterday"),
        ("", ""),
    ],
)
def test_normalise_date(value, iso):
    assert normalise_date(value) == iso


def test_malformed_doctype_feed_says_how_many_entries_were_recovered(tmp_path):
    # The XML error is on line 1, before any entry: feedparser's lenient parse still recovers
    # both entries, so the problem must not claim they came "before the error".
    rss = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y"<rss version="2.0"><channel><title>T</title>'
        "<item><title>One</title><guid>g1</guid><description>First story text here.</description></item>"
        "<item><title>Two</title><guid>g2</guid><description>Second story text here.</description></item>"
        "</channel></rss>"
    )
    result = read_file(write(tmp_path / "doctype.xml", rss))
    assert [a.id for a in result.articles] == ["g1", "g2"]
    [problem] = result.problems
    assert "line 1" in problem.reason and "recovered 2 entries" in problem.reason
    assert "before the error" not in problem.reason
