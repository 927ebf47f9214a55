"""Which names of a question a passage never mentions (rag/names.py), across scripts."""

from __future__ import annotations

from rag.names import question_names, unmentioned_names
from tests.factories import make_passage


def test_question_names_are_its_capitalised_content_words_but_the_first():
    assert question_names("Who is the president of France?") == ["france"]
    assert question_names("What did Kim Jong Un tell Putin in Vladivostok?") == [
        "kim",
        "jong",
        "putin",
        "vladivostok",
    ]
    assert question_names("Where did they meet?") == []
    assert question_names("Putin said what?") == []  # the first word is capitalised as a sentence start


def test_a_passage_mentions_a_name_in_its_own_script_or_in_the_other():
    hindi = make_passage("h", "किम जोंग उन ने पुतिन को प्योंगयांग आने का न्योता दिया।", 1, language="hi")
    english = make_passage("e", "Kim Jong Un invited Putin to Pyongyang.", 1, language="en")
    for p in (hindi, english):
        assert unmentioned_names("What did Kim Jong Un say?", p) == []
        assert unmentioned_names("Whom did Kim invite to Pyongyang?", p) == []
        # One mentioned name is enough: the question is about this passage's story.
        assert unmentioned_names("Did Putin accept, and what did France say?", p) == []
        assert unmentioned_names("Who is the president of France?", p) == ["france"]
    # The title counts as part of the passage.
    titled = make_passage("t", "The talks lasted four hours.", 1, language="en", title="Putin meets Kim")
    assert unmentioned_names("What did Putin discuss?", titled) == []
