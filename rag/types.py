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
    # The date of an earlier report of the same story that this sentence is quoted instead of
    # (:mod:`rag.stories`); "" when there is none.
    first_reported: str = ""


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
    # Quoted across languages: names, numbers and translated words it shares with the question,
    # in both scripts (as asked, as written), so a reader who cannot read the sentence sees what
    # matched.
    matches: list[tuple[str, str]] = field(default_factory=list)
    # The date of an earlier report of the same story this later one is quoted instead of ("" when
    # none): readers are shown both dates.
    first_reported: str = ""
    # "feed summary" when the article's stored text is its feed entry's (its page could not be
    # fetched): shown, so a reader knows the quote is from a teaser, not the article.
    text_from: str = ""


@dataclass
class ClaimCheck:
    """One sentence of a generated answer, checked against the passages it cites."""

    text: str  # the sentence as written, without its markers
    markers: list[int]  # the [n] it cites
    supported: bool
    similarity: float  # best cosine to a sentence of a cited passage (0 when it cites none)
    reason: str = ""  # why it is unsupported ("" when supported)
    missing: list[str] = field(default_factory=list)  # names and numbers the cited text lacks


@dataclass
class Verification:
    """What checking a generated answer found: which sentences are shown, and why any were not."""

    checks: list[ClaimCheck] = field(default_factory=list)
    # Why the reader got the quoted answer instead ("" when the generated answer is shown).
    fallback: str = ""

    @property
    def verified(self) -> int:
        return sum(c.supported for c in self.checks)

    @property
    def dropped(self) -> list[ClaimCheck]:
        return [c for c in self.checks if not c.supported]

    @property
    def share(self) -> float:
        """Share of the model's sentences that were verified (0 when it wrote none)."""
        return self.verified / len(self.checks) if self.checks else 0.0


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
    # Who wrote ``text``: "extractive" (quoted sentences) or "generated" (a language model, every
    # sentence shown verified against its citation). A generated answer that failed its checks is
    # answered extractively, with ``verification.fallback`` saying why.
    answerer: str = "extractive"
    verification: Verification | None = None
    usage: dict[str, int] = field(default_factory=dict)  # the model's tokens, when it reports them
    # The question's time frame in words ("this week (2022-06-10 to 2022-06-16)", "" without time
    # words), and what the reader should know about the dates behind the answer ("" when nothing).
    timeframe: str = ""
    time_note: str = ""
    # What shape the answer has: "answer", or "timeline" for a digest question (one dated entry per
    # story, newest first: :mod:`rag.digest`), which the faces show as a dated list.
    kind: str = "answer"

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.verification is not None:
            data["verification"]["verified"] = self.verification.verified
            data["verification"]["share"] = round(self.verification.share, 4)
        for c in data["citations"]:
            c["highlight"] = list(c["highlight"])
            c["matches"] = [list(pair) for pair in c["matches"]]
        return data
