from pathlib import Path

import pytest

from index.language import detect_language, detector, normalise_language

CORPUS_FILE = Path(__file__).resolve().parent.parent / "corpus" / "putin-kim-invitation-hi.txt"


def test_detector_is_built_once():
    assert detector() is detector()


def test_corpus_file_with_english_names_is_hindi():
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert "(Vladimir Putin)" in text
    assert detect_language(text) == "hi"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("राहुल गांधी (Rahul Gandhi) ने कहा कि कांग्रेस (Congress) चुनाव जीतेगी।", "hi"),
        ("The finance minister presented the budget in parliament on Thursday.", "en"),
        ("وزیر اعظم نے آج پارلیمنٹ میں بجٹ پیش کیا اور کہا کہ معیشت مضبوط ہے۔", "ur"),
        ("প্রধানমন্ত্রী আজ সংসদে বাজেট পেশ করেছেন।", "bn"),
        ("முதலமைச்சர் இன்று சட்டசபையில் பட்ஜெட்டை தாக்கல் செய்தார்.", "ta"),
        ("Le président a annoncé de nouvelles mesures économiques mardi.", "fr"),
        ("Der Bundestag hat am Donnerstag den Haushalt beschlossen.", "de"),
        ("Президент объявил о новых экономических мерах во вторник.", "ru"),
        ("国务院总理今天在北京主持召开常务会议。", "zh"),
    ],
)
def test_detects_languages(text, code):
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["", "   ", "12345 67", "—", "OK"])
def test_unsure_is_empty(text):
    assert detect_language(text) == ""


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("hi", "hi"),
        ("HI", "hi"),
        ("Hindi", "hi"),
        ("hindi", "hi"),
        ("हिंदी", "hi"),
        ("hi-IN", "hi"),
        ("en_US", "en"),
        ("eng", "en"),
        ("English", "en"),
        ("Nepali", "ne"),
        ("ne", "ne"),
        ("", ""),
        ("not a language", ""),
    ],
)
def test_normalise_language(value, code):
    assert normalise_language(value) == code


def test_the_language_set_is_configurable_for_articles_and_questions():

    from ingest.sources.dispatch import read_file

    hindi = "उत्तर कोरिया के नेता किम जोंग उन ने पुतिन को अपने देश आने का न्योता दिया।"
    assert detect_language(hindi) == "hi"
    assert detect_language(hindi, ("en", "fr")) != "hi"  # Hindi is not a candidate
    corpus = Path(__file__).resolve().parent.parent / "corpus" / "putin-kim-invitation-hi.txt"
    assert read_file(corpus).articles[0].language == "hi"
    assert read_file(corpus, languages=("en", "fr")).articles[0].language != "hi"
