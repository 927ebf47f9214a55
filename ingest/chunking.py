"""Articles to sentence-aligned chunks, each knowing its exact character span.

Sentence boundaries come from ``sentencex`` (rule-based, ~300 languages: it knows the
Devanagari danda and English abbreviations); packing sentences into chunks sized in the
embedding model's own tokens is llama-index's ``SentenceSplitter`` with that segmenter.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable

import sentencex
from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter

from index.records import Article, Chunk, Sentence


def _segment_language(language: str) -> str:
    return language or "en"


def split_sentences(text: str, language: str = "") -> list[Sentence]:
    """Sentences with spans; surrounding whitespace is left out of each span.

    A sentence never crosses a line break: a line without final punctuation (a heading, a
    "यह भी पढ़ें: ..." line) is a sentence of its own, as it is a split of its own for the
    chunker (whose paragraph separator is the line break).
    """
    lang = _segment_language(language)
    sentences = []
    offset = 0
    for line in text.split("\n"):
        for b in sentencex.get_sentence_boundaries(lang, line):
            start, end = offset + b["start_index"], offset + b["end_index"]
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                sentences.append(Sentence(start, end, text[start:end]))
        offset += len(line) + 1
    return sentences


class Chunker:
    def __init__(self, count_tokens: Callable[[str], list[int]], chunk_tokens: int, overlap_tokens: int):
        if overlap_tokens >= chunk_tokens:
            raise ValueError("chunk overlap must be smaller than the chunk size")
        self._count_tokens = count_tokens
        self._chunk_tokens = chunk_tokens
        self._overlap = overlap_tokens
        self._splitters: dict[str, SentenceSplitter] = {}

    def _splitter(self, language: str) -> SentenceSplitter:
        lang = _segment_language(language)
        if lang not in self._splitters:
            self._splitters[lang] = SentenceSplitter(
                chunk_size=self._chunk_tokens,
                chunk_overlap=self._overlap,
                # Splits carry the whitespace after them, which the tokenizer would count as a
                # token of its own ("▁"); in a chunk it is only the next word's "▁". Count without.
                tokenizer=lambda s: self._count_tokens(s.strip()),
                chunking_tokenizer_fn=lambda s: list(sentencex.segment(lang, s)),
                paragraph_separator="\n",
                include_metadata=False,
                include_prev_next_rel=False,
            )
        return self._splitters[lang]

    def chunk(self, article: Article) -> list[Chunk]:
        text = article.text
        if not text.strip():
            return []
        sentences = split_sentences(text, article.language)
        nodes = self._splitter(article.language).get_nodes_from_documents([Document(text=text)])
        pieces = [node.get_content() for node in nodes]
        starts = _place(text, pieces)
        if starts is None:  # pragma: no cover - the splitter only cuts, never edits
            raise ValueError(f"the chunks of article {article.id!r} could not be placed in its text")
        inside = _sentences_within(text, sentences)
        chunks: list[Chunk] = []
        for i, (piece, start) in enumerate(zip(pieces, starts, strict=True)):
            end = start + len(piece)
            chunks.append(Chunk(f"{article.content_hash[:16]}:{i}", i, start, end, piece, inside(start, end)))
        return chunks


def _sentences_within(text: str, sentences: list[Sentence]) -> Callable[[int, int], list[Sentence]]:
    """For a span [start, end): the sentences overlapping it, in order, each clipped to the span.

    ``split_sentences`` gives disjoint sentences in text order, so both their starts and their
    ends ascend and those overlapping a span are one run of neighbours, found by two bisections:
    from the first ending after ``start`` to the last starting before ``end``. A chunk costs
    log n plus its own sentences, not a scan of the whole article's. Sentences in any other
    layout (never made here) fall back to the scan, so the result is the same for every input.
    """
    starts = [s.start for s in sentences]
    ends = [s.end for s in sentences]
    ordered = all(a <= b for a, b in itertools.pairwise(starts)) and all(
        a <= b for a, b in itertools.pairwise(ends)
    )

    def clip(s: Sentence, start: int, end: int) -> Sentence:
        lo, hi = max(s.start, start), min(s.end, end)
        return Sentence(lo, hi, text[lo:hi])

    def within(start: int, end: int) -> list[Sentence]:
        if ordered:
            run = sentences[bisect.bisect_right(ends, start) : bisect.bisect_left(starts, end)]
        else:
            run = [s for s in sentences if s.start < end and s.end > start]
        return [clip(s, start, end) for s in run]

    return within


def _place(text: str, pieces: list[str]) -> list[int] | None:
    """Start offsets of the splitter's chunks in ``text``, or None when they do not fit it.

    The splitter's own ``start_char_idx`` is the *first* occurrence of a chunk's text anywhere
    in the article: wrong whenever that text also occurs earlier (a repeated passage, a long
    run of repeated words cut into pieces). What is known for sure is the layout: the chunks
    come in order, each starting after the previous one's start and no later than where that
    one ended (plus the whitespace the splitter strips), the first at the text's first
    non-space character and the last ending at its last. This finds offsets with that layout,
    by a depth-first search that tries the furthest-forward place first; in ordinary text each
    chunk occurs once and the search goes straight through.
    """
    if not pieces:
        return []
    first, last_end = len(text) - len(text.lstrip()), len(text.rstrip())

    def candidates(i: int, lo: int, hi: int) -> list[int]:
        """Offsets p of pieces[i] with lo <= p <= hi, latest first."""
        found, n = [], len(pieces[i])
        p = text.rfind(pieces[i], lo, hi + n)
        while p >= lo:
            found.append(p)
            p = text.rfind(pieces[i], lo, p - 1 + n) if p > lo else -1
        return found

    starts: list[int] = []
    dead: set[tuple[int, int]] = set()  # (chunk, offset) choices known to lead nowhere
    frames = [candidates(0, first, first)]
    while frames:
        i = len(frames) - 1
        if not frames[-1]:
            frames.pop()
            if starts:
                dead.add((i - 1, starts.pop()))
            continue
        p = frames[-1].pop(0)
        if (i, p) in dead:
            continue
        end = p + len(pieces[i])
        if i == len(pieces) - 1:
            if end == last_end:
                return [*starts, p]
            dead.add((i, p))
            continue
        limit = end
        while limit < len(text) and text[limit].isspace():
            limit += 1
        starts.append(p)
        frames.append(candidates(i + 1, p + 1, limit))
    return None


def chunk_embedding_text(article: Article, chunk: Chunk, with_title: bool = True) -> str:
    """What the model reads for a chunk: the title gives short chunks their topic."""
    if with_title and article.title and article.title not in chunk.text:
        return f"{article.title}\n{chunk.text}"
    return chunk.text


def unique_sentences(chunks: list[Chunk]) -> list[Sentence]:
    """Each sentence of the article once, in article order, even where overlapping chunks share it.

    A piece lying inside a sentence already kept (a long sentence cut to fit a chunk, repeated
    by the next chunk whole) is dropped. One sweep over the spans sorted by start, longest first,
    so a book-length file costs n log n, not n².
    """
    spans = {(s.start, s.end): s for chunk in chunks for s in chunk.sentences}
    out: list[Sentence] = []
    reach = -1  # the furthest end of any sentence kept so far
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if end <= reach:
            continue  # inside a kept sentence (it starts no earlier and ends no later)
        out.append(spans[(start, end)])
        reach = end
    return out
