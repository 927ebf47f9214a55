"""What retrieval and answering hand to the UI, the CLI and the evaluator."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Passage:
    """A retrieved chunk with its article's metadata and its score."""

    chunk_id: str
    article_id: str
    content_hash: str
    title: str
    source: str
    url: str
    published: str
    language: str
    text: str
    start: int  # character span of the chunk in its article
    end: int
    score: float  # cosine similarity to the question (dense) or fused score
    rank: int = 0
    # BM25's support for this passage in [0, 1]: its BM25 score over the question's best BM25
    # score, times BM25's share of the fusion for this question (0 when BM25 did not find it).
    lexical: float = 0.0
    also_in: list[str] = field(default_factory=list)  # near-duplicate articles folded into this one

    @classmethod
    def from_metadata(cls, chunk_id: str, metadata: dict, text: str, score: float, rank: int) -> Passage:
        """A passage from the chunk metadata the writer stores (both stores keep the same keys)."""
        m = metadata
        return cls(
            chunk_id=chunk_id,
            article_id=str(m.get("article_id", "")),
            content_hash=str(m.get("content_hash", "")),
            title=str(m.get("title", "")),
            source=str(m.get("source", "")),
            url=str(m.get("url", "")),
            published=str(m.get("published", "")),
            language=str(m.get("language", "")),
            text=text,
            start=int(m.get("start", 0)),
            end=int(m.get("end", 0)),
            score=score,
            rank=rank,
        )


@dataclass
class Evidence:
    """A sentence of a retrieved passage, scored against the question."""

    text: str
    start: int  # character span in the article
    end: int
    similarity: float  # cosine similarity of sentence and question
    score: float  # what the answerer ranks by (similarity plus the passage's support)
    passage: Passage


@dataclass
class Citation:
    marker: int
    article_id: str
    chunk_id: str
    title: str
    source: str
    published: str
    url: str
    language: str
    sentence: str
    start: int  # the sentence's character span in the article
    end: int
    passage: str
    passage_start: int
    passage_end: int
    highlight: tuple[int, int]  # the sentence's span inside ``passage``
    score: float


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    declined: bool
    reason: str = ""
    passages: list[Passage] = field(default_factory=list)
    # Evidence score of the best sentence (rag.evidence): what declining is decided on.
    confidence: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        for c in data["citations"]:
            c["highlight"] = list(c["highlight"])
        return data


@dataclass
class SearchFilters:
    """Narrow retrieval (not just the display) to languages, sources and a date range."""

    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    date_from: str = ""  # YYYY-MM-DD, inclusive
    date_to: str = ""

    def is_empty(self) -> bool:
        return not (self.languages or self.sources or self.date_from or self.date_to)
