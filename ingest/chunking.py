"""Articles to sentence-aligned chunks, each knowing its exact character span.

Sentence boundaries come from ``sentencex`` (rule-based, ~300 languages: it knows the
Devanagari danda and English abbreviations); packing sentences into chunks sized in the
embedding model's own tokens is llama-index's ``SentenceSplitter`` with that segmenter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sentencex
from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter

from ingest.article import Article


@dataclass(frozen=True)
class Sentence:
    start: int  # character offsets into Article.text
    end: int
    text: str


@dataclass
class Chunk:
    id: str
    index: int
    start: int
    end: int
    text: str
    sentences: list[Sentence] = field(default_factory=list)


def _segment_language(language: str) -> str:
    return language or "en"


def split_sentences(text: str, language: str = "") -> list[Sentence]:
    """Sentences with spans; surrounding whitespace is left out of each span."""
    sentences = []
    for b in sentencex.get_sentence_boundaries(_segment_language(language), text):
        start, end = b["start_index"], b["end_index"]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            sentences.append(Sentence(start, end, text[start:end]))
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
                tokenizer=self._count_tokens,
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
        chunks: list[Chunk] = []
        cursor = 0
        for node in nodes:
            start = node.start_char_idx
            if start is None or text[start : start + len(node.text)] != node.text:
                # The splitter could not place the chunk; find it ourselves, from where we are.
                start = text.find(node.text, max(0, cursor - len(node.text)))
                if start < 0:
                    continue
            end = start + len(node.text)
            cursor = start
            inside = [
                Sentence(max(s.start, start), min(s.end, end), text[max(s.start, start) : min(s.end, end)])
                for s in sentences
                if s.start < end and s.end > start
            ]
            chunks.append(
                Chunk(
                    f"{article.content_hash[:16]}:{len(chunks)}", len(chunks), start, end, node.text, inside
                )
            )
        return chunks
