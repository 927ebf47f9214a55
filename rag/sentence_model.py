"""A learned sentence order: which retrieved sentence to quote first, from features of each one.

The hand-tuned evidence score (cosine + term overlap + passage rank) and the word-alignment
tie-break reach a ceiling that no weighting of those signals passes (``bench/sentence_ceiling.py``):
the next gain needs other evidence, and a fitted rule for combining it. Each candidate sentence
gets a small feature vector — the existing scores and its place in the list, and what the text
shows: numbers and dates where the question asks for one (:mod:`rag.answer_type`), names shared
across scripts (:mod:`index.bridge`), its place in the article, how much of it is Latin-script
gloss inside another language (a Hindi lead sentence dense with "(Kim Jong Un)" names pulls
English questions whose answer is elsewhere), the question's English words it holds in
translation (:mod:`index.lexicon`) — and a logistic model, fitted on the development
questions with cross-validation grouped by article (``bench/fit_sentence_model.py``), orders them.

Only the order changes: every sentence keeps its evidence score, which the decline thresholds
read, so declining is exactly as before. The fitted weights are a small versioned JSON file; the
features are computed here and nowhere else, so fitting and answering cannot drift apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.bridge import NameBridge
from index.lexicon import english_words, translation_terms
from rag.answer import is_cross_lingual
from rag.answer_type import AnswerType, expected_type, supports
from rag.evidence import sentence_terms, term_overlap
from rag.query import Query
from rag.types import Evidence

FORMAT = "khabar-sentence-model/1"
SHIPPED = Path(__file__).with_name("sentence_model.json")

FEATURES = (
    "similarity",
    "score",
    "gap_to_best",
    "order",
    "passage_rank",
    "term_overlap",
    "cross_lingual",
    "cross_similarity",
    "lead",
    "position",
    "latin_share",
    "log_length",
    "expects_typed",
    "new_number",
    "new_date",
    "bridged_names",
    "latin_names",
    "translated_words",
)


def _latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if c.isascii()) / len(letters)


class SentenceFeatures:
    """The feature vectors of a question's candidate sentences (one row each, in ``FEATURES`` order).

    A sentence in another language shows which of the question's English words it holds in
    translation (``Query.translations``, from a bilingual word list); without a word list that
    feature is 0 for every sentence, which leaves the order to the others.
    """

    def matrix(self, query: Query, evidence: Sequence[Evidence]) -> np.ndarray:
        if not evidence:
            return np.zeros((0, len(FEATURES)), dtype=np.float64)
        english = len(set(english_words(query.text)))
        translations = [translation_terms(found) for found in query.translations.values()]
        kind = expected_type(query.text)
        typed = kind in (AnswerType.NUMBER, AnswerType.DATE)
        best = max(e.score for e in evidence)
        bridge = NameBridge(query.text)
        # Each sentence's place among the candidates of its own article, by where it starts.
        starts: dict[str, list[int]] = {}
        for e in evidence:
            starts.setdefault(e.passage.content_hash, []).append(e.start)
        for values in starts.values():
            values.sort()
        rows = []
        for i, e in enumerate(evidence):
            cross = is_cross_lingual(query.language, e.passage.language)
            own = starts[e.passage.content_hash]
            pairs = bridge.pairs(e.text) if bridge else []
            latin = sum(1 for _, phrase in pairs if phrase.isascii())
            rows.append(
                [
                    e.similarity,
                    e.score,
                    e.score - best,
                    1.0 / (i + 1),
                    1.0 / max(e.passage.rank, 1),
                    term_overlap(set(query.terms), e.text),
                    float(cross),
                    e.similarity * cross,
                    float(e.start == 0),
                    own.index(e.start) / max(len(own) - 1, 1),
                    _latin_share(e.text),
                    math.log1p(len(e.text)),
                    float(typed),
                    float(typed and supports(AnswerType.NUMBER, e.text, query.text)),
                    float(kind is AnswerType.DATE and supports(AnswerType.DATE, e.text, query.text)),
                    float(len(pairs) - latin),  # Devanagari phrases with a question name's skeleton
                    float(latin),  # the question's Latin words spelled as such in the sentence
                    # Share of the question's English words with a translation in the sentence.
                    self._translated(english, translations, e.text) if cross else 0.0,
                ]
            )
        return np.asarray(rows, dtype=np.float64)

    @staticmethod
    def _translated(english: int, translations: list[frozenset[str]], sentence: str) -> float:
        if not translations:
            return 0.0
        terms = sentence_terms(sentence)
        return sum(1 for found in translations if found & terms) / english


@dataclass(frozen=True)
class SentenceModel:
    """Fitted weights over :data:`FEATURES` (standardised by ``mean``/``scale`` first)."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    about: dict

    @classmethod
    def load(cls, path: Path = SHIPPED) -> SentenceModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} file (its format: {data.get('format')!r})")
        features = tuple(data["features"])
        if features != FEATURES:
            raise ValueError(
                f"{path} was fitted on other features than this code computes; refit it with "
                "bench/fit_sentence_model.py"
            )
        return cls(
            features,
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            data.get("about", {}),
        )

    def save(self, path: Path) -> None:
        data = {
            "format": FORMAT,
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
            "about": self.about,
        }
        Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias


class LearnedSentenceOrder:
    """Evidence step: the first ``candidates`` sentences reordered by the model; the rest follow."""

    def __init__(self, model: SentenceModel, features: SentenceFeatures, candidates: int):
        self.model, self.features, self.candidates = model, features, candidates

    def process(self, query: Query, evidence: list[Evidence]) -> list[Evidence]:
        head = evidence[: self.candidates]
        if len(head) < 2:
            return evidence
        logits = self.model.logits(self.features.matrix(query, head))
        order = sorted(range(len(head)), key=lambda i: (-logits[i], i))
        return [head[i] for i in order] + evidence[self.candidates :]
