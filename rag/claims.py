"""A generated answer, cut into sentences ("claims") with the ``[n]`` markers each one cites.

Hand-written because the markers decide where a sentence ends, which no sentence splitter knows:
models write "… warned of attacks. [1] It said …" as often as "… warned of attacks [1]. It said …",
and in both the [1] belongs to the first sentence. The splitter also keeps "U.S." and "Dr." inside
a sentence (a full stop after a lone letter or a short title does not end it).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

# One citation group: [1], [1, 2], [1][2] (taken one bracket at a time), also full-width 【1】.
_MARKER = regex.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,،;]\s*\d{1,3})*)\s*[\]】]")
# A sentence ends at . ! ? । ॥ (or their full-width forms), optionally followed by closing quotes,
# then by markers, then by white space or the end of the text.
_END = regex.compile(
    r"[.!?।॥。！？]+[\"'”’)\]]*(?:\s*[\[【]\s*\d{1,3}(?:\s*[,،;]\s*\d{1,3})*\s*[\]】])*(?=\s|$)"
)
_NOT_AN_END = regex.compile(
    r"(?:^|[\s.])(?:\p{Lu}|Mr|Mrs|Ms|Dr|Prof|St|Gen|Lt|Col|Sgt|No|Nos|vs|etc|i\.e|e\.g)\.$"
)


@dataclass(frozen=True)
class Claim:
    text: str  # the sentence without its markers, white space normalised
    markers: tuple[int, ...]  # the passage numbers it cites, in order of first mention


def markers_in(text: str) -> tuple[int, ...]:
    """Every passage number cited in ``text``, in order of first mention."""
    seen: list[int] = []
    for group in _MARKER.finditer(text):
        for number in regex.split(r"\s*[,،;]\s*", group.group(1)):
            n = int(number)
            if n not in seen:
                seen.append(n)
    return tuple(seen)


def without_markers(text: str) -> str:
    return " ".join(_MARKER.sub(" ", text).split()).replace(" .", ".").replace(" ,", ",").replace(" ।", "।")


def split_claims(text: str) -> list[Claim]:
    """The sentences of ``text`` in order, each with the markers inside it or right after its end.

    Markers standing alone at the start ("[2] The ministry said …" after a break) belong to the
    sentence they open. Empty pieces (only markers or punctuation) are dropped.
    """
    pieces: list[str] = []
    start = 0
    for end in _END.finditer(text):
        head = text[start : end.start() + 1].rstrip()
        if _NOT_AN_END.search(head) and not _MARKER.search(end.group()):
            continue
        pieces.append(text[start : end.end()])
        start = end.end()
    pieces.append(text[start:])
    claims: list[Claim] = []
    for piece in pieces:
        plain = without_markers(piece)
        if not regex.search(r"[\p{L}\p{N}]", plain):
            if claims and (extra := markers_in(piece)):  # stray markers: the sentence before cites them
                last = claims[-1]
                claims[-1] = Claim(last.text, tuple(dict.fromkeys(last.markers + extra)))
            continue
        claims.append(Claim(plain, markers_in(piece)))
    return claims
