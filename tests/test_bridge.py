"""The cross-script name and number bridge (index/bridge.py): no model, no data."""

from __future__ import annotations

import pytest

from index.bridge import MIN_CONSONANTS, NameBridge, name_pairs, numbers, skeleton

# --- skeletons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latin", "devanagari"),
    [
        ("Putin", "पुतिन"),
        ("Biden", "बाइडन"),
        ("Kremlin", "क्रेमलिन"),
        ("Pyongyang", "प्योंगयांग"),
        ("Trump", "ट्रंप"),  # anusvara before a labial
        ("Washington", "वॉशिंगटन"),  # w/व, sh/श, candra o
        ("Zelensky", "ज़ेलेंस्की"),  # nukta
        ("Zelenskyy", "जेलेंस्की"),  # the same name without its nukta
        ("France", "फ़्रांस"),
        ("France", "फ्रांस"),  # ph and f
        ("Ukraine", "यूक्रेन"),
        ("Kennedy", "कैनेडी"),  # double letters
        ("Saxon", "सैक्सन"),  # x
        ("Krishna", "कृष्ण"),  # vocalic r, retroflex sibilant and nasal
        ("Afghanistan", "अफ़ग़ानिस्तान"),
        ("Germany", "जर्मनी"),  # soft g
        ("Moscow", "मॉस्को"),  # w as a vowel
        ("Jinping", "जिनपिंग"),
        ("Federation", "फेडरेशन"),
        ("Schwarzenegger", "श्वार्ज़नेगर"),
    ],
)
def test_common_spellings_of_a_name_share_a_skeleton(latin, devanagari):
    assert skeleton(latin) == skeleton(devanagari)
    assert len(skeleton(latin)) >= MIN_CONSONANTS


def test_skeleton_ignores_case_and_diacritics_and_has_no_vowels():
    assert skeleton("PUTIN") == skeleton("putin") == "ptn"
    assert skeleton("Ogród") == skeleton("Ogrod")
    assert skeleton("Aeiou") == ""
    assert skeleton("2023") == ""


# --- pairs -------------------------------------------------------------------------------------

HINDI = (
    "क्रेमलिन ने कहा कि पुतिन और बाइडन की बातचीत में उत्तर कोरिया के नेता किम जोंग उन और "
    "प्योंगयांग के परमाणु कार्यक्रम पर चर्चा हुई।"
)


def test_names_of_an_english_question_pair_with_their_hindi_spellings():
    question = "What did Putin and Biden discuss about Kim Jong Un and Pyongyang, said the Kremlin?"
    found = name_pairs(question, HINDI)
    assert ("putin", "पुतिन") in found
    assert ("biden", "बाइडन") in found
    assert ("kremlin", "क्रेमलिन") in found
    assert ("pyongyang", "प्योंगयांग") in found
    # Too short word by word ("kim" and "un" have fewer than three consonants): matched as a run.
    assert ("kim jong un", "किम जोंग उन") in found
    assert ("jong", "जोंग") not in found  # the longest run wins
    assert len(found) == len(set(found))


def test_false_friends_do_not_pair():
    # "Korea" and "कार" are both "kr": two consonants never count, unless the caller says so.
    assert name_pairs("Korea", "उन्होंने कार ली") == []
    assert name_pairs("Korea", "उन्होंने कार ली", min_consonants=2) == [("korea", "कार")]
    assert name_pairs("Korea", "काम कर दिया", min_consonants=2) == []  # "कर" is a stop word
    # English stop words and words under three letters are not bridged, nor Hindi stop words.
    assert name_pairs("the and of it is at", "द एंड ऑफ इट इज़ एट") == []
    assert name_pairs("Karne", "करने के लिए") == []


def test_uncapitalised_words_need_a_longer_skeleton():
    # "party" and प्रति are both "prt": a name may match at three consonants, a common word not.
    assert name_pairs("which party won", "प्रति व्यक्ति") == []
    assert name_pairs("Prati", "प्रति व्यक्ति") == [("prati", "प्रति")]
    assert name_pairs("which company", "कंपनी ने") == [("company", "कंपनी")]  # "kmpn": four


def test_english_plurals_meet_their_hindi_forms():
    assert name_pairs("What did Kuznets find?", "कुजनेट ने पाया") == [("kuznets", "कुजनेट")]
    assert name_pairs("which channels", "चैनलों पर") == [("channels", "चैनलों")]  # oblique plural
    assert name_pairs("which soundtracks", "साउंडट्रैक में") == [("soundtracks", "साउंडट्रैक")]


def test_a_run_with_a_hindi_stop_word_must_match_word_for_word():
    # "युद्ध के उत्तर" is "dktr" like "doctor", but only through the stop word के.
    assert name_pairs("Doctor", "युद्ध के उत्तर में") == []
    assert name_pairs("Kim Jong Un", "किम जोंग उन") == [("kim jong un", "किम जोंग उन")]


def test_latin_words_in_a_hindi_text_pair_with_the_question_as_spelled():
    question = "What is the Saxon Garden in Polish?"
    text = "ओरगॉस्क सास्की (Saxon Garden) में समर थियेटर था, यानी सैक्सन गार्डन।"
    found = name_pairs(question, text)
    assert ("saxon", "saxon") in found and ("garden", "garden") in found
    assert ("saxon garden", "सैक्सन गार्डन") in found


def test_punctuation_breaks_a_run_of_words():
    assert name_pairs("Kim Jong Un", "किम, जोंग उन") == [("jong un", "जोंग उन")]


def test_a_hyphen_joins_the_words_of_a_name():
    # Each word of "Ki-Moon" is too short to count alone: only the whole name pairs.
    sentence = "संयुक्त राष्ट्र के महासचिव बान की मून के शब्दों में"
    assert name_pairs("What was Ban Ki-Moon the Secretary General of?", sentence) == [
        ("ban ki moon", "बान की मून")
    ]
    assert name_pairs("Ban Ki Moon", "बान की-मून") == [("ban ki moon", "बान की मून")]
    # A dash between spaces is punctuation, not a joining hyphen.
    assert name_pairs("Ban Ki - Moon", sentence) == [("ban ki", "बान की")]


def test_a_bridge_is_built_once_and_asked_of_many_sentences():
    bridge = NameBridge(["Putin", "visited", "the", "Kremlin"])
    assert bridge
    assert bridge.pairs("पुतिन आए।") == [("putin", "पुतिन")]
    assert bridge.pairs("क्रेमलिन") == [("kremlin", "क्रेमलिन")]
    assert bridge.pairs("कुछ नहीं") == []
    assert not NameBridge("what is the")


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("१०० लोग", {"100"}),
        ("1,000 और 1000", {"1000"}),
        ("10,00,000 रुपये", {"1000000"}),  # Indian grouping
        ("1,250,000 people", {"1250000"}),
        ("१९४७ में", {"1947"}),
        ("3.50 percent", {"3.5"}),
        ("1,2 and 3", {"1", "2", "3"}),  # commas that group no thousands separate numbers
    ],
)
def test_numerals_are_canonical(text, expected):
    assert numbers(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("दो लाख लोग", {"200000"}),
        ("डेढ़ लाख", {"150000"}),
        ("पचास हज़ार", {"50000"}),
        ("पचास हजार", {"50000"}),
        ("5 करोड़", {"5", "50000000"}),
        ("2.5 million people", {"2.5", "2500000"}),
        ("two hundred and fifty", {"250"}),
        ("twenty-five", {"25"}),
        ("एक लाख", {"100000"}),
        ("दो तीन दिन", {"2", "3"}),  # "two or three days"
        ("three hundred five", {"305"}),
        ("one of the", set()),  # a lone "one"/"एक" is an article more often than a number
        ("एक व्यक्ति", set()),
    ],
)
def test_number_words_of_either_language(text, expected):
    assert numbers(text) == expected


def test_a_question_and_a_sentence_meet_on_their_numbers():
    question = numbers("How many people, two hundred thousand or 1,50,000, came in 1947?")
    sentence = numbers("१९४७ में डेढ़ लाख लोग आए।")
    assert question & sentence == {"150000", "1947"}
