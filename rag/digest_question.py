"""Which questions ask for a digest of the news ("what is the latest on X", "summarise the news
about X", "ताज़ा खबर") rather than for one fact.

A digest is the commonest thing people ask a news bot, and one quoted sentence answers it badly:
it wants the best few stories, dated, newest first (:mod:`rag.digest`). Recognising one is a
small rule set, written by hand like the override guard (:mod:`rag.guard`): no library classifies
the intent of a news question in Hindi and English, and a model for it would be one more
download for what a handful of phrasings decide. The patterns are language data, one table per
language. They only say *whether* a question is a digest: a time window in it ("this month") is
read elsewhere.

Ordinary factoid questions must stay factoid: "What is the latest iPhone called?" asks for a
name, so "the latest" counts only before "on/about/news/…" or at the end of the question.
"""

from __future__ import annotations

import re
import unicodedata

_HAPPENED = r"\bwhat(?:'s|’s| has| have)?\s+(?:been\s+)?happen(?:ed|ing)\s+(?:with|to)"

_PATTERNS = {
    "en": [
        # "what's the latest on X", "what is the latest?", "the latest news about X"
        r"\bwhat(?:'s|’s| is| are)\s+the\s+latest\s*(?:$|[?.!]|\b(?:on|about|in|with|from|regarding|"
        r"news|updates?|developments?|stories|headlines)\b)",
        r"(?:^|\bthe\s+|\bany\s+)latest\s+(?:news|updates?|developments?|stories|headlines|on|about|regarding)\b",
        r"^\s*latest\b",
        # "summarise/summarize (the news about) X", "a summary of X", "recap", "round-up"
        r"\bsummar(?:ise|ize|y\s+of)\b|\bsum\s+up\b|\brecap\b|\bround-?up\b",
        r"\b(?:an?\s+)?overview\s+of\b",
        # "what happened with/to X": a short X, or a time span ("this month") after it; a longer one
        # asks about an event ("What happened to the crew onboard during the test?", a fact).
        _HAPPENED + r"\s+[^\s?.!]+(?:\s+[^\s?.!]+){0,3}\s*[?.!]*\s*$",
        _HAPPENED + r"\b.*\b(?:(?:this|last|past)\s+(?:week|month|year|weekend|few\s+days)|lately|recently|"
        r"so\s+far|today)\b",
        # "what has been happening in X", "what's going on with X"
        r"\bwhat(?:'s|’s| is| has been)\s+(?:been\s+)?(?:happening|going\s+on)\s+(?:with|in|at|to)\b",
        r"\bwhat(?:'s|’s| is)\s+new\s+(?:with|in|on|about)\b",
        # "news about/on X", "any updates on X", "developments in X"
        r"(?:^|\bthe\s+|\bany\s+)news\s+(?:on|about|from|regarding|of)\b",
        r"\bnews\s+about\b",
        r"(?:^|\bany\s+|\bthe\s+|\ban\s+|\blatest\s+|\bnew\s+)updates?\s+(?:on|about|regarding)\b",
        r"\b(?:recent|latest|new)\s+developments?\b",
        r"\b(?:catch|fill)\s+me\s+(?:up|in)\b|\bup\s+to\s+speed\b",
        r"\btell\s+me\s+(?:the\s+)?news\b",
    ],
    "hi": [
        # Matched without the nukta (ताज़ा = ताजा, ख़बर = खबर): both spellings are common.
        r"ताजा|ताजातरीन|नवीनतम|लेटेस्ट",
        r"सारांश|संक्षेप\s+में|सार\s+(?:बताओ|बताइए|बताएं|बताएँ|दो|दें|दीजिए)",
        # "X पर क्या हुआ", "X के साथ क्या हुआ", "X में क्या चल रहा है"
        r"(?:पर|के\s+साथ|को\s+लेकर)\s+क्या\s+हुआ",
        r"क्या\s+(?:चल|हो)\s+रहा\s+है",
        # "X के बारे में खबरें", "X की खबर बताइए", "कोई अपडेट"
        r"(?:खबर|खबरें|खबरों|समाचार|अपडेट)\s+(?:बताओ|बताइए|बताएं|बताएँ|सुनाओ|दो|दें|दीजिए|क्या\s+है)",
        r"बारे\s+में\s+(?:(?:क्या\s+)?(?:खबर|खबरें|समाचार|अपडेट))",
        r"(?:खबर|खबरें|खबरों|समाचार|अपडेट).{0,20}बारे\s+में",
        r"कोई\s+(?:नई\s+)?(?:खबर|अपडेट|जानकारी)",
    ],
}

_DIGEST = re.compile("|".join(p for patterns in _PATTERNS.values() for p in patterns), re.IGNORECASE)
_NUKTA = "\u093c"


def normalise(question: str) -> str:
    """The question as the patterns read it: NFC, without the nukta, spaces collapsed."""
    text = unicodedata.normalize("NFD", question).replace(_NUKTA, "")
    return " ".join(unicodedata.normalize("NFC", text).split())


def asks_for_digest(question: str) -> bool:
    """Whether the question asks for the news about something rather than for one fact."""
    return _DIGEST.search(normalise(question)) is not None
