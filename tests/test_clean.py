import unicodedata

import pytest

from ingest.clean import clean_text, clean_title, strip_markdown

# NFC form: क़ is written क + nukta (U+0915 U+093C), as NFC requires.
HINDI = "किम जोंग उन ने कहा। क\u093cिला राष्ट्रपति ज़्यादा"


def test_devanagari_marks_virama_nukta_danda_survive():
    assert clean_text(HINDI) == HINDI
    out = clean_text(f"  <p>{HINDI}</p>  ")
    assert out == HINDI
    for mark in ("ि", "ं", "ो", "्", "\u093c", "।"):
        assert mark in out


def test_precomposed_nukta_letter_becomes_its_nfc_form():
    # U+0958 is a composition exclusion: NFC writes it as क + ़, the form questions get too.
    assert clean_text("\u0958िला") == "\u0915\u093cिला"
    assert unicodedata.is_normalized("NFC", clean_text("\u0958िला"))


def test_nfc_composes_latin():
    assert clean_text("Cafe\u0301") == "Café"


def test_html_tags_entities_and_breaks():
    raw = "<div><p>Hello&nbsp;world &amp; friends</p>Next<br>line<br/>end<script>alert(1)</script></div>"
    assert clean_text(raw) == "Hello world & friends\nNext\nline\nend"


def test_escaped_markup_is_stripped_but_prose_angles_stay():
    assert clean_text("&lt;p&gt;Budget &lt;b&gt;passed&lt;/b&gt;&lt;/p&gt;") == "Budget passed"
    assert clean_text("if x < y and growth <10% then") == "if x < y and growth <10% then"


def test_table_cells_do_not_glue_words():
    assert clean_text("<table><tr><td>Delhi</td><td>42</td></tr></table>") == "Delhi 42"


def test_whitespace_and_paragraphs():
    raw = "  First \t  line  \r\n\n\n\n   second\u00a0\u00a0line \n\u2003\nthird\u2028fourth"
    assert clean_text(raw) == "First line\nsecond line\nthird\nfourth"


def test_invisible_and_control_characters_go():
    assert clean_text("\ufeffab\u200bc\u00add\x07e\u200ef\u2060g") == "abcdefg"


@pytest.mark.parametrize(
    "word",
    [
        "क्\u200dष",  # ZWJ: half form
        "क्\u200cष",  # ZWNJ: explicit virama
        "र्\u200dय",
        "می\u200cخواهم",  # Persian/Urdu ZWNJ
    ],
)
def test_joiners_inside_words_of_joining_scripts_stay(word):
    assert clean_text(word) == unicodedata.normalize("NFC", word)


def test_stray_joiners_go():
    assert clean_text("a\u200db \u200cनमस्ते\u200d") == "ab नमस्ते"


def test_clean_title_is_one_line():
    assert clean_title("  Floods <em>hit</em>\n\n Assam &amp; Bihar ") == "Floods hit Assam & Bihar"


def test_empty_and_markup_only():
    assert clean_text("") == ""
    assert clean_text(" <br/> \n &nbsp; ") == ""


def test_strip_markdown():
    md = (
        "# Big **news** today #\n\n"
        "Some *emphasis*, __strong__ and a [link](https://example.org/x) and ![photo](p.png).\n"
        "> quoted `code`\n\n"
        "- item one\n"
        "2. item two\n"
        "***\n"
        "[ref]: https://example.org\n"
        "snake_case_name stays\n"
    )
    out = clean_text(strip_markdown(md))
    assert out.split("\n") == [
        "Big news today",
        "Some emphasis, strong and a link and photo.",
        "quoted code",
        "item one",
        "item two",
        "snake_case_name stays",
    ]
