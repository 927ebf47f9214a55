"""Questions that try to change what Khabar does instead of asking about the articles.

"Ignore all previous instructions and …" is no question about the news: quoting the nearest
sentence for it (what happened: its cosine to a name-dense lead sentence cleared the decline
threshold) looks like an answer to a request the collection cannot answer. Such input is declined
by rule, before any score is read; the same rule will guard the prompt of a generated answer.

The patterns are language data, one table per language, like stop words: an instruction verb
near what it would set aside, and the usual role-play and prompt-extraction phrases.
"""

from __future__ import annotations

import re

_PATTERNS = {
    "en": [
        # Imperative only (at the start of a sentence or after "and"/"please"): "Did the
        # government ignore the rules?" is a fair question.
        r"(^|[.!?;:]\s*|\band\s+|\bplease\s+)(now\s+)?(ignore|disregard|forget|override|bypass)\b"
        r".{0,40}\b(instructions?|prompts?|rules|articles|context|guidelines|sources|everything|above)\b",
        r"(^|[.!?;:]\s*)(please\s+)?(you are now|from now on,? you|act as|pretend (to be|you are)|"
        r"role-?play as)\b",
        r"\b(jailbreak|developer mode)\b",
        r"\b(system|hidden|initial) (prompt|instructions?|message)\b",
    ],
    "hi": [
        # Imperative forms only ("… को अनदेखा करें"): "सरकार ने किन नियमों को अनदेखा किया?" is fair.
        r"(निर्देश|निर्देशों|नियम|नियमों|लेख|लेखों|संदर्भ).{0,30}"
        r"(अनदेखा|नज़रअंदाज़|नजरअंदाज|नज़रअंदाज) (करें|करो|कीजिए|कर दो|कर दें)|"
        r"(निर्देश|निर्देशों|नियम|नियमों).{0,30}भूल (जाओ|जाएं|जाएँ|जाइए)",
        r"(सिस्टम|छिपे|शुरुआती) (प्रॉम्प्ट|प्रोम्प्ट|निर्देश)",
        r"(^|[।.!?]\s*)(अब तुम|अब से तुम)|(होने का नाटक करो|की तरह व्यवहार करो)",
    ],
}

_OVERRIDE = re.compile("|".join(p for patterns in _PATTERNS.values() for p in patterns), re.IGNORECASE)


def asks_to_override(question: str) -> bool:
    """Whether the question tries to set aside Khabar's instructions or the articles."""
    return _OVERRIDE.search(question) is not None
