"""Sentence splitting and chunking: sentence-aligned, sized in the model's tokens, exact spans.

Token counts use the real bundled model's tokenizer (the session's model, loaded once).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from index.records import Article, Chunk, Sentence
from ingest.chunking import Chunker, _sentences_within, split_sentences, unique_sentences
from ingest.sources.dispatch import read_file

pytestmark = pytest.mark.integration  # the real bundled model (its tokenizer at least)

CORPUS_FILE = Path(__file__).resolve().parent.parent / "corpus" / "putin-kim-invitation-hi.txt"

HINDI_DANDA = (
    "असम में बाढ़ से एक लाख लोग प्रभावित हुए हैं। प्रशासन ने राहत शिविर खोले हैं। क्या हालात सुधरेंगे? मुख्यमंत्री ने समीक्षा की॥"
)
ENGLISH = (
    "Mr. Smith flew to Washington on Monday. The U.S. State Dept. said talks would resume at 3 p.m. "
    "on Tuesday. Officials declined to comment!\n"
    "Did the talks succeed? Nobody knows yet."
)
# Overlong for small chunks, with runs of punctuation (",," and "...") inside it.
LONG_ENGLISH = (
    "The committee, after weeks of hearings,, testimony from dozens of witnesses... and a long "
    "review of documents that had been withheld for years by three different agencies, finally "
    "published a report that runs to several hundred pages and recommends sweeping changes to "
    "how the budget is drawn up, debated and audited in every province of the country. "
    "It was short. Then it ended."
)


@pytest.fixture(scope="module")
def count(embed_model) -> Callable[[str], list[int]]:
    return embed_model.token_ids


@pytest.fixture(scope="module")
def corpus_article() -> Article:
    return read_file(CORPUS_FILE).articles[0]


def article(text: str, language: str) -> Article:
    return Article(id="a.txt", title="Title", text=text, language=language)


def assert_exact(text: str, sentences: list[Sentence]) -> None:
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text


# --- sentences --------------------------------------------------------------------------------


def test_hindi_sentences_end_at_the_danda_and_question_mark():
    sentences = split_sentences(HINDI_DANDA, "hi")
    assert [s.text for s in sentences] == [
        "असम में बाढ़ से एक लाख लोग प्रभावित हुए हैं।",
        "प्रशासन ने राहत शिविर खोले हैं।",
        "क्या हालात सुधरेंगे?",
        "मुख्यमंत्री ने समीक्षा की॥",
    ]
    assert_exact(HINDI_DANDA, sentences)


def test_hindi_written_with_full_stops_splits_too(corpus_article):
    # The corpus writes Hindi with "." instead of the danda.
    text = corpus_article.text
    sentences = split_sentences(text, corpus_article.language)
    assert corpus_article.language == "hi"
    assert len(sentences) == 17
    assert_exact(text, sentences)
    warning = [s for s in sentences if "अमेरिकी विदेश विभाग" in s.text]
    assert len(warning) == 1
    assert warning[0].text.startswith("इस बीच अमेरिकी विदेश विभाग")
    assert warning[0].text.endswith("संकोच नहीं करेगा.")
    # Every sentence but the last line (which has no full stop) ends with one.
    assert all(s.text.endswith((".", "''")) for s in sentences[:-1])


def test_english_abbreviations_do_not_end_sentences():
    sentences = split_sentences(ENGLISH, "en")
    assert [s.text for s in sentences] == [
        "Mr. Smith flew to Washington on Monday.",
        "The U.S. State Dept. said talks would resume at 3 p.m. on Tuesday.",
        "Officials declined to comment!",
        "Did the talks succeed?",
        "Nobody knows yet.",
    ]
    assert_exact(ENGLISH, sentences)


def test_a_line_without_final_punctuation_is_a_sentence_of_its_own():
    text = "Election results\nThe count began at 8 a.m. and ended late.\nयह भी पढ़ें: आगे की खबर"
    sentences = split_sentences(text, "en")
    assert [s.text for s in sentences] == [
        "Election results",
        "The count began at 8 a.m. and ended late.",
        "यह भी पढ़ें: आगे की खबर",
    ]
    assert_exact(text, sentences)


def test_unknown_or_missing_language_still_splits():
    for language in ("", "xx"):
        assert [s.text for s in split_sentences("One here. Two there.", language)] == [
            "One here.",
            "Two there.",
        ]


# --- chunks -----------------------------------------------------------------------------------


def check_chunks(a: Article, chunks: list[Chunk], count: Callable[[str], list[int]], size: int) -> None:
    """The invariants every chunking must keep."""
    text = a.text
    sentences = split_sentences(text, a.language)
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    overlong = [s for s in sentences if len(count(s.text)) > size]

    def in_overlong(pos: int) -> bool:
        return any(s.start < pos < s.end for s in overlong)

    assert chunks, "no chunks"
    for i, c in enumerate(chunks):
        assert c.index == i
        assert c.id == f"{a.content_hash[:16]}:{i}"
        assert text[c.start : c.end] == c.text  # the exact span
        assert c.text == c.text.strip()
        n_tokens = len(count(c.text))
        # Sized in the model's tokens; only a piece of one overlong sentence may differ.
        alone_in_one_sentence = any(s.start <= c.start and c.end <= s.end for s in overlong)
        assert n_tokens <= size or alone_in_one_sentence, (i, n_tokens, size)
        # Cut at sentence boundaries, except inside an overlong sentence.
        assert c.start in starts or in_overlong(c.start), (i, text[c.start : c.start + 30])
        assert c.end in ends or in_overlong(c.end), (i, text[c.end - 30 : c.end])
        # Its sentences: exact spans, in order, inside the chunk.
        assert_exact(text, c.sentences)
        assert all(c.start <= s.start < s.end <= c.end for s in c.sentences)
        assert [s.start for s in c.sentences] == sorted(s.start for s in c.sentences)
    # In order, and together they cover every character of the text: nothing is lost.
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert len({c.start for c in chunks}) == len(chunks)
    covered = bytearray(len(text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    missing = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert not missing, text[missing[0] : missing[0] + 40]
    # Every sentence is in the chunks (whole, or in pieces when it is overlong).
    for s in sentences:
        if s in overlong:
            continue
        assert any(c.start <= s.start and s.end <= c.end for c in chunks), s.text


@pytest.mark.parametrize(("size", "overlap"), [(220, 40), (64, 16), (32, 8), (40, 0)])
def test_hindi_corpus_chunks_are_sentence_aligned_sized_and_exact(count, corpus_article, size, overlap):
    chunks = Chunker(count, size, overlap).chunk(corpus_article)
    check_chunks(corpus_article, chunks, count, size)
    if size == 220:
        assert len(chunks) == 3  # one paragraph or two each, far under the model's 512


@pytest.mark.parametrize(("size", "overlap"), [(220, 40), (48, 16), (32, 12)])
def test_english_chunks_are_sentence_aligned_sized_and_exact(count, size, overlap):
    a = article(ENGLISH + "\n" + LONG_ENGLISH + "\n" + ENGLISH, "en")
    chunks = Chunker(count, size, overlap).chunk(a)
    check_chunks(a, chunks, count, size)


def test_danda_text_chunks(count):
    a = article("\n".join([HINDI_DANDA] * 4), "hi")
    chunks = Chunker(count, 40, 10).chunk(a)
    check_chunks(a, chunks, count, 40)
    # Repeated paragraphs: each chunk is where it really is, not at the first copy of its text.
    assert chunks[-1].end == len(a.text)


def test_an_overlong_sentence_is_cut_but_nothing_is_lost(count):
    a = article(LONG_ENGLISH, "en")
    long_sentence = split_sentences(a.text, "en")[0]
    assert len(count(long_sentence.text)) > 32
    chunks = Chunker(count, 32, 8).chunk(a)
    check_chunks(a, chunks, count, 32)
    assert len(chunks) > 2
    pieces = [c for c in chunks if long_sentence.start <= c.start and c.end <= long_sentence.end]
    assert len(pieces) >= 2
    # "...", ",," survive: the pieces are spans of the text, so they are in it verbatim.
    assert any("hearings,," in c.text for c in chunks)
    assert any("witnesses..." in c.text for c in chunks)


def test_repeated_text_is_placed_where_it_is(count):
    """Regression: the splitter's start_char_idx is the first occurrence of a chunk's text, so
    chunks of a long run of repeated words all landed near the start and the rest was lost."""
    text = "यह छोटा वाक्य है. " + " ".join(["शब्द"] * 80) + ". अंत."
    a = article(text, "hi")
    for size, overlap in ((32, 16), (40, 20), (48, 24), (64, 30)):
        chunks = Chunker(count, size, overlap).chunk(a)
        check_chunks(a, chunks, count, size)
        sentence_ids = [f"{s.start}-{s.end}" for s in unique_sentences(chunks)]
        assert len(sentence_ids) == len(set(sentence_ids))


def test_chunks_are_stable_and_named_after_the_content(count, corpus_article):
    chunker = Chunker(count, 64, 16)
    first, again = chunker.chunk(corpus_article), Chunker(count, 64, 16).chunk(corpus_article)
    assert [(c.id, c.start, c.end) for c in first] == [(c.id, c.start, c.end) for c in again]
    renamed = Article(**{**corpus_article.to_dict(), "id": "other-name.txt"})
    assert [c.id for c in chunker.chunk(renamed)] == [c.id for c in first]  # same text, same chunks
    edited = Article(**{**corpus_article.to_dict(), "text": corpus_article.text + " नया वाक्य."})
    assert chunker.chunk(edited)[0].id != first[0].id


def test_unique_sentences_lists_each_sentence_once(count, corpus_article):
    chunks = Chunker(count, 64, 30).chunk(corpus_article)
    assert any(a.end > b.start for a, b in itertools.pairwise(chunks))  # they overlap
    spans = [(s.start, s.end) for s in unique_sentences(chunks)]
    assert len(spans) == len(set(spans))
    sentences = split_sentences(corpus_article.text, "hi")
    fitting = {(s.start, s.end) for s in sentences if len(count(s.text)) <= 64}
    assert fitting <= set(spans)  # every sentence that fits a chunk is there whole


def test_unique_sentences_drop_pieces_inside_a_kept_sentence_whatever_their_order():
    from index.records import Chunk, Sentence

    whole = Sentence(0, 40, "x" * 40)
    piece = Sentence(10, 20, "x" * 10)
    other = Sentence(30, 60, "y" * 30)  # overlaps the whole sentence without lying inside it

    def chunk(*sentences: Sentence) -> Chunk:
        return Chunk("c", 0, sentences[0].start, sentences[-1].end, "", list(sentences))

    for chunks in ([chunk(piece), chunk(whole, other)], [chunk(whole), chunk(piece, other)]):
        assert [(s.start, s.end) for s in unique_sentences(chunks)] == [(0, 40), (30, 60)]


def test_empty_text_has_no_chunks_and_bad_overlap_is_refused(count):
    assert Chunker(count, 64, 8).chunk(article("  \n ", "en")) == []
    with pytest.raises(ValueError, match="overlap"):
        Chunker(count, 32, 32)


# --- sentence assignment: by bisection, as the old scan of every sentence did it --------------


def reference_sentences_within(text: str, sentences: list[Sentence], start: int, end: int) -> list[Sentence]:
    """The former O(chunks × sentences) assignment, kept as the reference the fast one must match."""
    return [
        Sentence(max(s.start, start), min(s.end, end), text[max(s.start, start) : min(s.end, end)])
        for s in sentences
        if s.start < end and s.end > start
    ]


def generated_text(seed: int) -> str:
    """Paragraphs of short and overlong sentences (English, danda Hindi), blank and heading lines."""
    rng = random.Random(seed)
    words = ["committee", "said", "talks", "would", "resume", "प्रशासन", "राहत", "शिविर", "Mr.", "U.S."]
    lines = []
    for _ in range(rng.randint(4, 10)):
        sentences = []
        for _ in range(rng.randint(1, 5)):
            n = rng.choice([3, 8, 15, 90])  # 90 words: overlong for the small chunk sizes below
            sentences.append(" ".join(rng.choice(words) for _ in range(n)) + rng.choice([".", "?", "।", ""]))
        lines.append("  ".join(sentences) if rng.random() < 0.8 else "")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("size", "overlap"), [(64, 30), (32, 12), (220, 40)])
def test_sentence_assignment_matches_the_reference_scan(count, seed, size, overlap):
    text = generated_text(seed)
    a = article(text, "hi" if seed % 2 else "en")
    sentences = split_sentences(text, a.language)
    chunks = Chunker(count, size, overlap).chunk(a)
    assert chunks
    if size < 220:
        assert any(len(count(s.text)) > size for s in sentences)  # some sentence is cut
        assert any(x.end > y.start for x, y in itertools.pairwise(chunks))  # chunks overlap
    for c in chunks:
        assert c.sentences == reference_sentences_within(text, sentences, c.start, c.end)


def test_sentence_assignment_of_any_spans_matches_the_reference_scan():
    text = generated_text(7)
    sentences = split_sentences(text, "en")
    within = _sentences_within(text, sentences)
    rng = random.Random(7)
    spans = [(0, len(text)), (0, 0), (len(text), len(text))]
    spans += [tuple(sorted(rng.sample(range(len(text) + 1), 2))) for _ in range(300)]
    for start, end in spans:
        assert within(start, end) == reference_sentences_within(text, sentences, start, end)
    # Sentences out of text order (never made by split_sentences): still the scan's answer.
    shuffled = sentences[:]
    rng.shuffle(shuffled)
    within = _sentences_within(text, shuffled)
    for start, end in spans:
        assert within(start, end) == reference_sentences_within(text, shuffled, start, end)


def test_an_articles_content_hash_is_kept_but_follows_its_text():
    article = Article(id="a", title="T", text="one two three")
    first = article.content_hash
    assert article.content_hash == first
    assert "_content_hash" not in article.to_dict() and article == Article(
        id="a", title="T", text="one two three"
    )
    article.text = "one two four"
    assert article.content_hash != first
    article.title = "U"
    assert article.content_hash == Article(id="b", title="U", text="one two four").content_hash
