"""Does a question continue the conversation, or start a new topic?

Gluing the previous question to every follow-up carried the old topic into unrelated questions:
after two questions about Kim and Putin, "Who is the president of France?" was retrieved as a
question about Kim and answered with a Kim sentence. A question continues the conversation only
when it cannot stand alone: it refers back (a pronoun or demonstrative: "What did *he*
promise?", "उसने क्या कहा?"), opens with a connective ("And what did Kim promise?", "और कब?"), or
has almost nothing of its own to search for ("Why?"). Anything else is searched as asked.

The cue words are language data, like stop words: one table, per language, here.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.analysis import analyze
from index.text import word_tokens

# Words that point back to something said before. Possessives and object forms included; "it"
# and "there" too, although they sometimes are expletives ("is there …"), since a wrong
# "continues" only widens the search, while a missed one loses the topic.
_REFERS_BACK = {
    "en": """he him his she her hers it its they them their theirs this that these those
        there then such former latter same""",
    "hi": """वह वो वे उसने उन्होंने उसका उसकी उसके उनका उनकी उनके उसे उन्हें उससे उनसे उसमें उनमें
        इसने इन्होंने इसका इसकी इसके इनका इनकी इनके इसे इन्हें इससे इनसे इसमें इनमें यह ये
        वहाँ वहां यहाँ यहां तब""",
}

# Words that open a question continuing the previous one.
_CONTINUES = {
    "en": "and but also so then",  # and "what about …" / "how about …", below
    "hi": "और लेकिन पर तो फिर तथा",
}


def _table(source: dict[str, str]) -> frozenset[str]:
    return frozenset(w for words in source.values() for w in word_tokens(words))


REFERS_BACK = _table(_REFERS_BACK)
OPENING_WORDS = _table(_CONTINUES)


@dataclass(frozen=True)
class FollowUpRule:
    """Decides whether a question is searched together with the previous one.

    ``max_own_terms``: a question with at most this many content words of its own ("Why?",
    "And when?") leans on the conversation whatever its wording.
    """

    max_own_terms: int = 1

    def continues(self, question: str) -> bool:
        words = word_tokens(question)
        if not words:
            return False
        if words[0] in OPENING_WORDS or tuple(words[:2]) in {("what", "about"), ("how", "about")}:
            return True
        if any(w in REFERS_BACK for w in words):
            return True
        return len(analyze(question)) <= self.max_own_terms
