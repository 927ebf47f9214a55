"""Every sentence of a generated answer checked against the passages it cites, before it is shown.

A sentence is supported when (1) every passage number it cites was given, (2) its embedding is
close enough to some sentence of a cited passage (the same multilingual model that retrieved
them, so an English sentence can be checked against Hindi text), and (3) the names and numbers it
adds to the question appear in the cited passage, in either script, through the same bridge the
extractive scorer uses (:mod:`index.bridge`). The thresholds are fitted on answers with corrupted
citations, numbers and names (``bench/fit_verifier.py``), not picked by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import regex

from index.analysis import analyze
from index.bridge import NameBridge, numbers
from index.records import Passage
from index.text import fold, word_tokens
from rag.answer import is_cross_lingual
from rag.claims import Claim
from rag.evidence import SentenceEvidence, StoredSentence
from rag.types import ClaimCheck

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyRules:
    min_similarity: float
    min_similarity_cross_lingual: float
    names: str = "same-language"  # "off" | "same-language" | "always"
    numbers: bool = True


_LATIN_WORD = regex.compile(r"[A-Za-z][\p{L}\p{M}'’-]*")


def new_names(claim: str, question: str) -> list[str]:
    """Capitalised Latin-script words of ``claim`` that the question does not contain (folded,
    split as the tokeniser splits them, so "Fiji’s" and "Asia-Pacific" compare by their parts),
    the first word of the sentence left out (it is capitalised anyway), and parts of fewer than
    three letters too (acronyms such as "US" are too short to find across scripts)."""
    asked = {fold(w) for w in word_tokens(question)}
    found: list[str] = []
    for i, match in enumerate(_LATIN_WORD.finditer(claim)):
        if i == 0 or not match.group()[0].isupper():
            continue
        for part in word_tokens(match.group()):
            if len(part) < 3 or part in asked or part in found or not analyze(part, stem=False):
                continue  # stop words ("The", "It") are capitalised at a sentence start too
            found.append(part)
    return found


def missing_names(claim: str, question: str, cited: str) -> list[str]:
    """The claim's new names that the cited text contains in neither script."""
    names = new_names(claim, question)
    if not names:
        return []
    present = {fold(w) for w in word_tokens(cited)}
    bridged = {word for latin, _ in NameBridge(claim).pairs(cited) for word in latin.split()}
    return [n for n in names if n not in present and n not in bridged]


def missing_numbers(claim: str, question: str, cited: str) -> list[str]:
    """The numbers the claim states beyond the question's that the cited text does not state."""
    return sorted(numbers(claim) - numbers(question) - numbers(cited))


@dataclass
class Support:
    """What the cited passages offer one claim: the closest sentence per passage and the names and
    numbers they lack."""

    similarity: float
    best: dict[int, StoredSentence]  # marker -> the cited passage's closest sentence
    names: list[str]
    numbers: list[str]


def support(
    claim: str,
    question: str,
    cited: dict[int, Passage],
    sentences: dict[str, list[StoredSentence]],
) -> Support:
    """``sentences``: each cited passage's sentences (by chunk id) with their cosine to the claim."""
    best: dict[int, StoredSentence] = {}
    for marker, passage in cited.items():
        options = sentences.get(passage.chunk_id, [])
        if options:
            best[marker] = max(options, key=lambda s: s.similarity)
    similarity = max((s.similarity for s in best.values()), default=0.0)
    text = "\n".join(p.text for p in cited.values())
    return Support(
        similarity, best, missing_names(claim, question, text), missing_numbers(claim, question, text)
    )


def crosses(language: str, passages: Iterable[Passage]) -> bool:
    """Whether some passage is known to be in another language than ``language`` (unknown = no)."""
    return any(is_cross_lingual(language, p.language) for p in passages)


class ClaimVerifier:
    """Checks the claims of one answer against the numbered passages the model was given."""

    def __init__(
        self,
        evidence: SentenceEvidence,
        embed: Callable[[str], Sequence[float]],
        rules: VerifyRules,
    ):
        self.evidence = evidence
        self.embed = embed
        self.rules = rules

    def threshold(self, language: str, passages: Sequence[Passage]) -> float:
        if crosses(language, passages):
            return self.rules.min_similarity_cross_lingual
        return self.rules.min_similarity

    def check(
        self, question: str, language: str, claims: Sequence[Claim], passages: Sequence[Passage]
    ) -> tuple[list[ClaimCheck], dict[int, StoredSentence]]:
        """One check per claim, and for every cited passage number the sentence to highlight (the
        one closest to the supported claims that cite it)."""
        checks: list[ClaimCheck] = []
        highlight: dict[int, StoredSentence] = {}
        for claim in claims:
            invented = [m for m in claim.markers if not 1 <= m <= len(passages)]
            if not claim.markers:
                checks.append(ClaimCheck(claim.text, [], False, 0.0, "cites no passage"))
                continue
            if invented:
                shown = ", ".join(f"[{m}]" for m in invented)
                reason = f"cites {shown}, but only {len(passages)} passages were given"
                checks.append(ClaimCheck(claim.text, list(claim.markers), False, 0.0, reason))
                continue
            cited = {m: passages[m - 1] for m in claim.markers}
            sentences = self.evidence.by_passage(list(self.embed(claim.text)), list(cited.values()))
            found = support(claim.text, question, cited, sentences)
            threshold = self.threshold(language, list(cited.values()))
            cross = crosses(language, cited.values())
            check_names = self.rules.names == "always" or (self.rules.names == "same-language" and not cross)
            reasons, missing = [], []
            if found.similarity < threshold:
                reasons.append(f"closest cited sentence {found.similarity:.3f} < {threshold:.3f}")
            if self.rules.numbers and found.numbers:
                reasons.append("number not in the cited passage: " + ", ".join(found.numbers))
                missing += found.numbers
            if check_names and found.names:
                reasons.append("name not in the cited passage: " + ", ".join(found.names))
                missing += found.names
            ok = not reasons
            checks.append(
                ClaimCheck(
                    claim.text,
                    list(claim.markers),
                    ok,
                    round(found.similarity, 4),
                    "; ".join(reasons),
                    missing,
                )
            )
            if ok:
                for marker, sentence in found.best.items():
                    if marker not in highlight or sentence.similarity > highlight[marker].similarity:
                        highlight[marker] = sentence
        for c in checks:
            if not c.supported:
                log.info("unsupported answer sentence %r %s: %s", c.text, c.markers, c.reason)
        return checks, highlight
