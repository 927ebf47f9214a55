"""What answering hands to the UI, the CLI and the evaluator (the stored records it starts from,
``Passage`` among them, live in :mod:`index.records`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.records import Passage


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
    # Quoted across languages: names and numbers it shares with the question, in both scripts
    # (as asked, as written), so a reader who cannot read the sentence sees what matched.
    matches: list[tuple[str, str]] = field(default_factory=list)


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
            c["matches"] = [list(pair) for pair in c["matches"]]
        return data
