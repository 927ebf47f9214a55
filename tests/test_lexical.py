"""The BM25 half of retrieval: analyzer, index updates, persistence and filters (no model); the
index tests run over both term stores: SQLite (embedded mode) and a `chroma run` server (http)."""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from index.analysis import analyze, same_nasal_spelling, stem_term
from index.chroma import ChromaConfig, chroma_client
from index.lexical import BUILD_DIR, BUILD_ROWS, LexicalIndex, SqliteTerms, to_passages
from index.records import CollectionStats, SearchFilters
from index.side import TOKEN_CHECK_SECONDS, ChromaTerms
from index.stopwords import ENGLISH_STOPWORDS, HINDI_STOPWORDS
from index.text import word_tokens

# scikit-learn's CountVectorizer pattern, which bm25s.tokenize uses by default.
DEFAULT_BM25_PATTERN = r"(?u)\b\w\w+\b"


# --- analyzer ---------------------------------------------------------------------------------


def test_default_bm25_pattern_fragments_hindi_words_that_analyze_keeps_whole():
    # Python's \w excludes Devanagari combining marks, so the default pattern loses these words.
    assert re.findall(DEFAULT_BM25_PATTERN, "प्रतिबंध") == ["रत"]
    assert re.findall(DEFAULT_BM25_PATTERN, "विदेश") == []
    assert analyze("प्रतिबंध", stem=False) == ["प्रतिबंध"]
    assert analyze("विदेश", stem=False) == ["विदेश"]


def test_default_bm25s_tokenizer_behaves_like_the_pattern():
    bm25s = pytest.importorskip("bm25s")
    tokens = bm25s.tokenize(["विदेश मंत्रालय ने प्रतिबंध लगाया"], return_ids=False, show_progress=False)
    assert "प्रतिबंध" not in tokens[0] and "विदेश" not in tokens[0]


@pytest.mark.parametrize(
    "word",
    [
        "किम्",  # virama at the end
        "हिंदी",  # anusvara + matras
        "क्षेत्र",  # conjuncts (virama inside)
        "ज़िंदगी",  # nukta, precomposed
        "प्रधानमंत्री",
        "राष्ट्रपति",
        "चाँद",  # candrabindu
    ],
)
def test_analyze_keeps_devanagari_words_with_marks_whole(word):
    assert analyze(word, stem=False) == [unicodedata.normalize("NFC", word)]
    # The stemmer strips suffixes only: what it keeps is the start of the whole word (its nasal
    # written as the anusvara).
    (stem,) = analyze(word)
    assert same_nasal_spelling(unicodedata.normalize("NFC", word)).startswith(stem) and len(stem) >= 2


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("सम्बन्ध", "संबंध"),  # the dictionary's spelling and the news'
        ("हिन्दी", "हिंदी"),
        ("पञ्चायत", "पंचायत"),
        ("चाँद", "चांद"),  # candrabindu written as anusvara
    ],
)
def test_spellings_of_a_nasal_share_a_stem(one, other):
    assert analyze(one) == analyze(other)
    assert analyze(one, stem=False) != analyze(other, stem=False)  # the words as written stay apart


def test_a_nasal_before_a_consonant_of_another_class_is_kept():
    assert same_nasal_spelling("सम्मान") == "सम्मान"  # म before म: not a stop of its class
    assert same_nasal_spelling("जन्म") == "जन्म"


@pytest.mark.parametrize(
    ("inflected", "plain"),
    [
        ("टेपों", "टेप"),  # oblique plural (seen on xquad-hi-dev: question "टेपों", passage "टेप")
        ("प्रदर्शनों", "प्रदर्शन"),
        ("लोगों", "लोग"),
        ("ताकतों", "ताकत"),
        ("किले", "किला"),
        ("protests", "protest"),
        ("restored", "restoring"),
    ],
)
def test_inflected_forms_share_a_stem(inflected, plain):
    assert analyze(inflected) == analyze(plain)
    assert analyze(inflected, stem=False) != analyze(plain, stem=False)


def test_stemming_leaves_numbers_and_other_scripts_alone():
    assert stem_term("2023") == "2023"
    assert stem_term("covid19") == "covid19"
    assert stem_term("москва") == "москва"
    assert stem_term("kim") == "kim"


def test_analyze_folds_nukta_spellings_and_zero_width_joiners_together():
    precomposed = "\u095b\u093f\u0902\u0926\u0917\u0940"  # ज़िंदगी with U+095B
    decomposed = "\u091c\u093c\u093f\u0902\u0926\u0917\u0940"  # ज + nukta
    assert analyze(precomposed) == analyze(decomposed)
    assert analyze("क्\u200dष") == analyze("क्ष")


def test_analyze_drops_hindi_and_english_stopwords_keeps_names_and_numbers():
    text = "किम जोंग ने 2023 में रूस का दौरा किया था और यह बात Kim told the press in Moscow."
    expected = ["किम", "जोंग", "2023", "रूस", "दौरा", "बात", "kim", "told", "press", "moscow"]
    assert analyze(text, stem=False) == expected
    assert analyze(text) == [stem_term(t) for t in expected]
    # A question word, copula and postposition carry no evidence.
    assert analyze("पोलिश में सैक्सन गार्डन क्या है?") == ["पोलिश", "सैक्सन", "गार्डन"]


def test_stopword_lists_are_in_analyzed_form_and_sized_sensibly():
    for word in HINDI_STOPWORDS | ENGLISH_STOPWORDS:
        assert word_tokens(word) == [word]
    assert 100 <= len(HINDI_STOPWORDS) <= 250
    assert 120 <= len(ENGLISH_STOPWORDS) <= 200
    assert "us" not in ENGLISH_STOPWORDS  # would remove "US" after case-folding
    for function_word in ["का", "के", "की", "को", "में", "से", "पर", "ने", "है", "और", "कि", "लिए"]:
        assert function_word in HINDI_STOPWORDS


# --- index ------------------------------------------------------------------------------------


def meta(article_id: str, content_hash: str, **extra) -> dict:
    base = {
        "article_id": article_id,
        "title": "",
        "source": "bbc",
        "category": "",
        "url": f"https://example.org/{article_id}",
        "published": "2023-09-13",
        "published_day": 20230913,
        "language": "hi",
        "path": "",
        "content_hash": content_hash,
        "chunk_index": 0,
        "start": 0,
        "end": 0,
    }
    return {**base, **extra}


# content_hash -> [(chunk_id, text, metadata overrides)]
ARTICLES: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "h-putin": [
        (
            "h-putin:0",
            "रूस के राष्ट्रपति व्लादिमीर पुतिन ने उत्तर कोरिया के नेता किम जोंग उन को मॉस्को आने का न्योता दिया।",
            {"article_id": "putin-hi", "language": "hi", "source": "bbc-hindi"},
        ),
        (
            "h-putin:1",
            "दोनों नेताओं की मुलाक़ात वोस्तोचनी कॉस्मोड्रोम में हुई, जहाँ अंतरिक्ष सहयोग पर बात हुई।",
            {"article_id": "putin-hi", "language": "hi", "source": "bbc-hindi", "chunk_index": 1},
        ),
    ],
    "h-sanction": [
        (
            "h-sanction:0",
            "अमेरिका ने ईरान पर नए आर्थिक प्रतिबंध लगाए हैं और विदेश मंत्रालय ने इसकी आलोचना की है।",
            {
                "article_id": "sanction-hi",
                "language": "hi",
                "source": "amar-ujala",
                "published": "2024-02-01",
                "published_day": 20240201,
            },
        )
    ],
    "h-monsoon": [
        (
            "h-monsoon:0",
            "मौसम विभाग के अनुसार इस साल मानसून केरल में समय से पहले पहुँचेगा और बारिश सामान्य रहेगी।",
            {"article_id": "monsoon-hi", "language": "hi", "source": "amar-ujala"},
        )
    ],
    "e-kim": [
        (
            "e-kim:0",
            "Kim Jong Un travelled by armoured train to meet Vladimir Putin at the Vostochny cosmodrome.",
            {"article_id": "kim-en", "language": "en", "source": "bbc-english", "title": "Kim meets Putin"},
        )
    ],
    "e-cricket": [
        (
            "e-cricket:0",
            "India beat Australia by six wickets in the 2023 World Cup final in Ahmedabad.",
            {"article_id": "cricket-en", "language": "en", "source": "reuters"},
        )
    ],
}


def chunks_of(content_hash: str) -> list[tuple[str, str, dict]]:
    out = []
    for chunk_id, text, extra in ARTICLES[content_hash]:
        out.append((chunk_id, text, {**meta(extra["article_id"], content_hash), **extra, "end": len(text)}))
    return out


@pytest.fixture(params=["sqlite", "chroma"])
def open_lexical(request, tmp_path: Path) -> Iterator[Callable[..., LexicalIndex]]:
    """Opens a lexical index by key over each store: a SQLite file in a folder (embedded mode), or
    a collection on the session's `chroma run` server (http mode); the same key, the same rows."""
    opened: list[LexicalIndex] = []
    if request.param == "sqlite":

        def store(key: str) -> Any:
            return tmp_path / key

    else:
        server = request.getfixturevalue("chroma_server")
        client = chroma_client(ChromaConfig("http", tmp_path, server.host, server.port))
        prefix = f"t-{uuid.uuid4().hex[:12]}"

        def store(key: str) -> Any:
            return ChromaTerms(client, f"{prefix}-{key}")

    def factory(key: str, **options: Any) -> LexicalIndex:
        opened.append(LexicalIndex(store(key), **options))
        return opened[-1]

    yield factory
    for idx in opened:
        idx.close()
    if request.param == "chroma":
        for name in {c.name for c in client.list_collections() if c.name.startswith(prefix)}:
            client.delete_collection(name)


@pytest.fixture
def index(open_lexical):
    idx = open_lexical("lexical")
    for content_hash in ARTICLES:
        idx.add(content_hash, chunks_of(content_hash))
    return idx


def ids(results) -> list[str]:
    return [r[0] for r in results]


def test_count_and_result_shape(index):
    assert index.count() == 6
    results = index.search("प्रतिबंध", top_k=3)
    chunk_id, score, metadata, text = results[0]
    assert chunk_id == "h-sanction:0"
    assert isinstance(score, float) and score > 0
    assert metadata["article_id"] == "sanction-hi" and metadata["content_hash"] == "h-sanction"
    assert text.startswith("अमेरिका ने ईरान")


def test_hindi_query_ranks_the_right_chunk_first(index):
    assert ids(index.search("ईरान पर किसने प्रतिबंध लगाए?", top_k=3))[0] == "h-sanction:0"
    assert ids(index.search("मानसून केरल कब पहुँचेगा?", top_k=3))[0] == "h-monsoon:0"
    assert ids(index.search("पुतिन और किम की मुलाक़ात कहाँ हुई?", top_k=3))[0] in {"h-putin:0", "h-putin:1"}
    assert ids(index.search("वोस्तोचनी कॉस्मोड्रोम", top_k=3))[0] == "h-putin:1"


def test_english_query_with_latin_names_ranks_the_right_chunk_first(index):
    assert ids(index.search("Where did Kim meet Putin?", top_k=3))[0] == "e-kim:0"
    assert ids(index.search("Who won the 2023 World Cup in Ahmedabad?", top_k=3))[0] == "e-cricket:0"


def test_only_chunks_sharing_a_term_are_returned(index):
    assert ids(index.search("Ahmedabad", top_k=10)) == ["e-cricket:0"]
    assert index.search("zzzz unknownword", top_k=10) == []


def test_coverage_is_the_share_of_query_terms_the_index_knows(open_lexical, index):
    # "kim" and "meet" occur in the index ("e-kim:0"), "zorblax" and "council" nowhere.
    terms = analyze("Kim meet Zorblax council")
    assert terms == ["kim", "meet", "zorblax", "council"]
    assert index.coverage("Kim meet Zorblax council") == pytest.approx(2 / 4)
    assert index.coverage("मानसून केरल") == 1.0
    assert index.coverage("the of") == 0.0  # nothing left after stop words
    with open_lexical("empty") as empty:
        assert empty.coverage("Kim") == 0.0


def test_stats_are_the_same_from_either_store(index):
    # SQLite aggregates in SQL; on a Chroma server they are counted over the rows built from.
    assert index.stats() == CollectionStats(
        languages=["en", "hi"],
        sources=["amar-ujala", "bbc-english", "bbc-hindi", "reuters"],
        first_date="2023-09-13",
        last_date="2024-02-01",
        articles=5,
        chunks=6,
    )


def test_stats_follow_every_write_from_any_handle(open_lexical, index):
    """The aggregates are kept per generation; a write here or through another handle moves it."""
    before = index.stats()
    assert index.stats() == before
    index.delete("e-cricket")
    assert (index.stats().articles, index.stats().chunks) == (before.articles - 1, before.chunks - 1)
    with open_lexical("lexical") as other:
        other.delete("e-kim")
        assert other.stats().articles == before.articles - 2
    # A shared server's token is asked for at most every TOKEN_CHECK_SECONDS: wait past it.
    time.sleep(TOKEN_CHECK_SECONDS + 0.05)
    assert index.stats().articles == before.articles - 2


def test_query_without_terms_returns_nothing(index):
    assert index.search("", top_k=5) == []
    assert index.search("क्या है? the of and", top_k=5) == []
    assert index.search("Putin", top_k=0) == []


def test_title_is_indexed_but_not_stored_in_the_text(index):
    # "meets" appears only in the English article's title.
    results = index.search("meets", top_k=5)
    assert ids(results) == ["e-kim:0"]
    assert "meets" not in results[0][3]


def test_add_replaces_rows_of_the_same_content_hash(index):
    index.add(
        "h-sanction",
        [("h-sanction:0", "जापान ने चावल के निर्यात पर रोक हटाई।", meta("sanction-hi", "h-sanction"))],
    )
    assert index.count() == 6
    assert index.search("ईरान प्रतिबंध", top_k=5) == []
    assert ids(index.search("जापान चावल निर्यात", top_k=5)) == ["h-sanction:0"]

    # Fewer chunks than before: the old extra chunk must go too.
    index.add("h-putin", [("h-putin:0", "पुतिन ने बयान जारी किया।", meta("putin-hi", "h-putin"))])
    assert index.count() == 5
    assert index.search("वोस्तोचनी कॉस्मोड्रोम", top_k=5) == []


def test_delete_removes_the_content_from_search(index):
    assert ids(index.search("Ahmedabad", top_k=5)) == ["e-cricket:0"]
    index.delete("e-cricket")
    assert index.count() == 5
    assert index.search("Ahmedabad", top_k=5) == []
    index.delete("never-added")  # no-op
    assert index.count() == 5


def test_deleting_everything_leaves_an_empty_searchable_index(index):
    for content_hash in list(ARTICLES):
        index.delete(content_hash)
    assert index.count() == 0
    assert index.search("Putin", top_k=5) == []


def test_empty_folder_searches_to_nothing(open_lexical):
    with open_lexical("empty") as idx:
        assert idx.count() == 0
        assert idx.search("पुतिन", top_k=5) == []


def test_a_new_instance_on_the_same_folder_sees_the_data(open_lexical, index):
    index.delete("e-cricket")
    with open_lexical("lexical") as again:
        assert again.count() == 5
        assert ids(again.search("प्रतिबंध", top_k=1)) == ["h-sanction:0"]
        assert again.search("Ahmedabad", top_k=5) == []


def test_a_write_by_another_instance_is_seen_without_reopening(open_lexical, index):
    assert index.search("ज्वालामुखी", top_k=5) == []  # builds the in-memory index
    with open_lexical("lexical") as writer:
        writer.add("h-volcano", [("h-volcano:0", "इंडोनेशिया में ज्वालामुखी फटा।", meta("volcano", "h-volcano"))])
    assert ids(index.search("ज्वालामुखी", top_k=5)) == ["h-volcano:0"]


def test_a_failed_add_leaves_the_previous_rows(index):
    class Unserialisable:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        index.add("h-sanction", [("h-sanction:0", "नया पाठ", {"bad": Unserialisable()})])
    assert ids(index.search("प्रतिबंध", top_k=5)) == ["h-sanction:0"]


def test_stored_tokens_are_reanalysed_when_the_analyzer_changes(open_lexical, index):
    index.store.rewrite_terms("old", lambda text, metadata: "stale")  # as another analyzer wrote them
    assert {r[0] for r in index.search("stale", top_k=10)} == {c for h in ARTICLES for c, *_ in chunks_of(h)}
    with open_lexical("lexical") as again:
        assert ids(again.search("प्रतिबंध", top_k=1)) == ["h-sanction:0"]
        assert again.search("stale", top_k=5) == []


def test_bm25_parameters_are_used(open_lexical):
    # With b=0 length does not matter; with b=1 the shorter chunk wins a one-term tie.
    chunks = [
        ("long:0", "पुतिन " + "बयान " * 30, meta("long", "long")),
        ("short:0", "पुतिन बयान", meta("short", "short")),
    ]
    with open_lexical("b0", b=0.0) as flat, open_lexical("b1", b=1.0) as norm:
        for idx in (flat, norm):
            idx.add("long", chunks[:1])
            idx.add("short", chunks[1:])
        flat_scores = [r[1] for r in flat.search("पुतिन", top_k=2)]
        assert flat_scores[0] == pytest.approx(flat_scores[1])
        assert ids(norm.search("पुतिन", top_k=2))[0] == "short:0"


# --- filters ----------------------------------------------------------------------------------


def test_language_filter(index):
    query = "Putin पुतिन Kim किम"
    assert {r[2]["language"] for r in index.search(query, top_k=10)} == {"hi", "en"}
    only_en = index.search(query, top_k=10, filters=SearchFilters(languages=["en"]))
    assert ids(only_en) == ["e-kim:0"]
    only_hi = index.search(query, top_k=10, filters=SearchFilters(languages=["hi"]))
    assert set(ids(only_hi)) <= {"h-putin:0", "h-putin:1"} and only_hi


def test_source_filter(index):
    results = index.search("प्रतिबंध मानसून", top_k=10, filters=SearchFilters(sources=["amar-ujala"]))
    assert set(ids(results)) == {"h-sanction:0", "h-monsoon:0"}
    assert index.search("प्रतिबंध", top_k=10, filters=SearchFilters(sources=["bbc-hindi"])) == []


def test_date_filter(index):
    query = "प्रतिबंध मानसून"
    assert ids(index.search(query, top_k=10, filters=SearchFilters(date_from="2024-01-01"))) == [
        "h-sanction:0"
    ]
    assert ids(index.search(query, top_k=10, filters=SearchFilters(date_to="2023-12-31"))) == ["h-monsoon:0"]


def test_a_filtered_out_top_document_does_not_take_a_top_k_slot(open_lexical):
    with open_lexical("slots") as idx:
        # The English chunk repeats the query term and would rank first unfiltered.
        idx.add("en", [("en:0", "Putin Putin Putin", meta("en", "en", language="en"))])
        idx.add("hi1", [("hi1:0", "Putin met officials", meta("hi1", "hi1"))])
        idx.add("hi2", [("hi2:0", "Putin and Kim met at the cosmodrome", meta("hi2", "hi2"))])
        assert ids(idx.search("Putin", top_k=1)) == ["en:0"]
        filtered = idx.search("Putin", top_k=1, filters=SearchFilters(languages=["hi"]))
        assert ids(filtered) == ["hi1:0"]
        assert ids(idx.search("Putin", top_k=2, filters=SearchFilters(languages=["hi"]))) == [
            "hi1:0",
            "hi2:0",
        ]


# --- passages ---------------------------------------------------------------------------------


def test_to_passages_carries_metadata_span_score_and_rank(index):
    results = index.search("Kim Putin cosmodrome", top_k=3)
    passages = to_passages(results)
    assert [p.rank for p in passages] == list(range(1, len(results) + 1))
    first = passages[0]
    assert first.chunk_id == results[0][0] and first.score == results[0][1]
    assert first.article_id == "kim-en" and first.language == "en" and first.source == "bbc-english"
    assert first.content_hash == "e-kim" and first.url == "https://example.org/kim-en"
    assert (first.start, first.end) == (0, len(first.text))
    assert first.text == ARTICLES["e-kim"][0][1]
    assert to_passages([]) == []


def test_chunks_without_terms_are_stored_but_never_match(open_lexical):
    with open_lexical("stop") as idx:
        idx.add("only-stop", [("only-stop:0", "यह है और the of", meta("s", "only-stop"))])
        assert idx.count() == 1
        assert idx.search("Putin", top_k=5) == []
        idx.add("putin", [("putin:0", "Putin spoke", meta("p", "putin"))])
        assert ids(idx.search("Putin", top_k=5)) == ["putin:0"]


def test_latin_names_bridge_to_the_devanagari_terms_of_their_skeleton(open_lexical):
    """An English question shares no token with a Hindi chunk, but its names do share consonants:
    "Putin" and "Pyongyang" find पुतिन and प्योंगयांग, and count as words the index can read."""
    with open_lexical("bridge") as idx:
        idx.add("h-visit", [("h-visit:0", "पुतिन ने प्योंगयांग का दौरा किया।", meta("visit", "h-visit"))])
        idx.add("h-rain", [("h-rain:0", "दिल्ली में भारी बारिश हुई।", meta("rain", "h-rain"))])
        question = "When did Putin travel to Pyongyang?"
        bridged = idx.bridge(question)
        assert bridged == {"putin": ["पुतिन"], "pyongyang": ["प्योंगयांग"]}
        assert idx.search(question, 5) == []  # not one token in common
        extra = [t for terms in bridged.values() for t in terms]
        assert [r[0] for r in idx.search(question, 5, extra_terms=extra)] == ["h-visit:0"]
        assert idx.coverage(question) == 0.0
        assert idx.coverage(question, bridged) == pytest.approx(2 / 3)  # putin, pyongyang; not travel
        assert idx.bridge("What about the monsoon?") == {}


def test_a_new_process_maps_the_saved_build_instead_of_rebuilding(tmp_path, monkeypatch):
    first = LexicalIndex(SqliteTerms(tmp_path / "lexical"))
    for content_hash in ARTICLES:
        first.add(content_hash, chunks_of(content_hash))
    expected = first.search("Putin पुतिन प्रतिबंध", top_k=5)  # builds, and saves the build
    assert expected and len(list((tmp_path / "lexical" / BUILD_DIR).iterdir())) == 1

    def no_rebuild(self):
        raise AssertionError("rebuilt although a saved build of this generation exists")

    with monkeypatch.context() as patched:
        patched.setattr(LexicalIndex, "_build", no_rebuild)
        again = LexicalIndex(SqliteTerms(tmp_path / "lexical"))
        assert again.search("Putin पुतिन प्रतिबंध", top_k=5) == expected
        assert again.coverage("पुतिन बयान") == first.coverage("पुतिन बयान")
        again.close()
    first.close()


def test_a_saved_build_is_not_used_after_a_write_and_a_damaged_one_is_rebuilt(tmp_path):
    first = LexicalIndex(SqliteTerms(tmp_path / "lexical"))
    first.add("h-other", [("h-other:0", "दिल्ली में बारिश हुई।", meta("other", "h-other"))])
    assert first.search("ज्वालामुखी", top_k=5) == []
    first.add("h-volcano", [("h-volcano:0", "इंडोनेशिया में ज्वालामुखी फटा।", meta("volcano", "h-volcano"))])
    again = LexicalIndex(SqliteTerms(tmp_path / "lexical"))
    assert ids(again.search("ज्वालामुखी", top_k=5)) == ["h-volcano:0"]
    again.close()
    (saved,) = (tmp_path / "lexical" / BUILD_DIR).iterdir()  # the older build is gone
    (saved / BUILD_ROWS).write_text("{not json", encoding="utf-8")
    third = LexicalIndex(SqliteTerms(tmp_path / "lexical"))
    assert ids(third.search("ज्वालामुखी", top_k=5)) == ["h-volcano:0"]
    third.close()
    first.close()
