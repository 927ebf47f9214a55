"""Names a question asks about that the passage of its best sentence never mentions.

Why: an unrelated question ("Who is the president of France?") over a collection about something
else still finds a sentence whose cosine clears the decline threshold: a lead sentence dense with
political names pulls any question about politics. When the question names something and the
passage holding its best sentence mentions none of those names in either script (the bridge of
:mod:`index.bridge`: "France" / फ्रांस, or the same Latin spelling), the answer needs stronger
evidence. How much stronger is a setting fitted on the development questions
(``bench/name_margin.py``).

Only Latin-script names are seen (capitalised words); Devanagari has no capitals, so a Hindi
question never raises the bar this way.
"""

from __future__ import annotations

import regex

from index.bridge import MIN_LATIN_LETTERS, NameBridge
from index.records import Passage
from index.stopwords import ENGLISH_STOPWORDS
from index.text import fold

_WORD = regex.compile(r"[\p{Latin}][\p{Latin}\p{M}'’-]*")


def question_names(question: str) -> list[str]:
    """The question's capitalised Latin-script content words, folded, first word excepted (it is
    capitalised as the start of the sentence, not as a name)."""
    words = _WORD.findall(question)
    names: list[str] = []
    for word in words[1:]:
        folded = fold(word)
        if (
            word[:1].isupper()
            and len(folded) >= MIN_LATIN_LETTERS
            and folded not in ENGLISH_STOPWORDS
            and folded not in names
        ):
            names.append(folded)
    return names


def unmentioned_names(question: str, passage: Passage) -> list[str]:
    """The question's names when ``passage`` (its title and text) mentions none of them, in
    either script; empty when it mentions one, or when the question names nothing."""
    names = question_names(question)
    if not names:
        return []
    pairs = NameBridge(question).pairs(f"{passage.title}\n{passage.text}")
    mentioned = {word for asked, _ in pairs for word in asked.split()}
    return [] if mentioned.intersection(names) else names
