"""Word-by-word comparison of a question with near-tied passages and sentences, for
cross-lingual questions.

One vector per text is often unsure across languages: for an English question over Hindi text
the best few passages (sibling paragraphs of one story) and the best few sentences are frequently
within a hair of each other, and the one restating the question's topic wins over the one holding
the answer. BM25 settles such ties for a Hindi question; for an English one it has no words to
match. So the near-tied candidates are compared word by word instead: each question token's
best-matching token of the sentence, averaged (ColBERT's "MaxSim"), over token vectors from a
middle layer of the same encoder. Middle layers of multilingual encoders align words across
languages best (SimAlign, Jalili Sabet et al. 2020, found layer 8 of XLM-R best;
multilingual-e5-small is XLM-R shaped).

Measured with ``khabar eval`` on xquad-hi-dev (English questions, Hindi paragraphs), weight 0.3:
passages within 0.01 of the best (top 3 of the top-k) reordered -> hit@1 0.882 -> 0.900; within
0.02 of the best among the first 8 of the reranked list, before the top-k cut -> hit@1 0.907,
hit@5 0.965 -> 0.969 (a tied paragraph from rank 6-8 moves up). With sentences within 0.01 of the
best (top 3) reordered too, top-sentence accuracy 0.640 -> 0.675 (0.685 with a 0.02 margin, which
ties more often and took English questions' median latency from 1.30x to 1.47x that of dense
retrieval, ``bench/latency.py``). Hindi questions gained nothing offline (their term overlap
already matches words), so same-language questions are left alone. Cost: one forward pass through
8 of 12 layers for the question and for each tied sentence not seen before (cached), only on
questions with a tie (see ``bench/results/ablation.md``).

Why hand-written: the step needs the hidden states of the embedding model already loaded (no
second model may be downloaded here); libraries that score with token vectors (ColBERT, RAGatouille,
SimAlign) load their own checkpoints from a hub.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np

from index.records import Passage
from rag.answer import is_cross_lingual
from rag.evidence import SentenceEvidence
from rag.types import Evidence

T = TypeVar("T", Passage, Evidence)


def truncated_encoder(model: Any, layers: int) -> Any:
    """A view of a Hugging Face BERT-style encoder that runs only its first ``layers`` layers.

    The weights are shared, not copied; the original model is untouched (its module dicts are
    copied before the layer list is replaced). Running 8 of 12 layers saves a third of the time.
    """
    import torch

    encoder = copy.copy(model.encoder)
    encoder._modules = dict(model.encoder._modules)
    encoder.layer = torch.nn.ModuleList(list(model.encoder.layer)[:layers])
    view = copy.copy(model)
    view._modules = dict(model._modules)
    view.encoder = encoder
    return view


class TokenAligner:
    """MaxSim between a question and sentences, from token vectors at one encoder layer."""

    def __init__(
        self,
        sentence_transformer: Any,
        layer: int,
        query_prefix: str,
        passage_prefix: str,
        max_tokens: int = 128,
        cache_size: int = 2048,
    ):
        import torch

        self._torch = torch
        self.tokenizer = sentence_transformer.tokenizer
        self.model = truncated_encoder(sentence_transformer[0].auto_model, layer)
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        # Tokens to drop from the front of each encoded text: <s> and the prompt's own tokens.
        self._skip = {prefix: 1 + self._prefix_length(prefix) for prefix in (query_prefix, passage_prefix)}
        self.max_tokens = max_tokens
        # Sentences come back question after question (a conversation, an evaluation); their token
        # vectors are kept (float16, ~30 KB a sentence).
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @classmethod
    def from_embed_model(
        cls, embed_model: Any, layer: int, query_prefix: str, passage_prefix: str
    ) -> TokenAligner:
        """The aligner over the loaded llama-index ``HuggingFaceEmbedding``'s sentence-transformers model."""
        return cls(embed_model._model, layer, query_prefix, passage_prefix)

    def _prefix_length(self, prefix: str) -> int:
        if not prefix.strip():
            return 0
        return len(self.tokenizer(prefix.strip(), add_special_tokens=False)["input_ids"])

    def token_vectors(self, texts: Sequence[tuple[str, str]]) -> list[np.ndarray]:
        """Unit-length token vectors of each (prefix, text), without special and prefix tokens.

        Texts not in the cache go through the model in one batch, whatever their prefix: the
        question's own pass cost 15 ms, batched with the tied sentences 4 ms.
        """
        with self._lock:
            # The hits are taken now: another thread may evict them before this call returns.
            found = {key: self._cache[key] for key in texts if key in self._cache}
            for key in found:
                self._cache.move_to_end(key)
        missing = [key for key in dict.fromkeys(texts) if key not in found]
        fresh: dict[tuple[str, str], np.ndarray] = {}
        if missing:
            enc = self.tokenizer(
                [prefix + text for prefix, text in missing],
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
            )
            with self._torch.inference_mode():
                hidden = self.model(**enc).last_hidden_state.float().numpy()
            lengths = enc["attention_mask"].sum(dim=1).tolist()
            for key, h, n in zip(missing, hidden, lengths, strict=True):
                tokens = h[self._skip[key[0]] : int(n) - 1]  # up to, not including, </s>
                if len(tokens) == 0:
                    tokens = h[:1]
                tokens = tokens / np.linalg.norm(tokens, axis=1, keepdims=True)
                fresh[key] = tokens.astype(np.float16)
        if fresh:
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        found.update(fresh)
        return [found[key].astype(np.float32) for key in texts]

    def maxsim(self, question: str, sentences: Sequence[str]) -> list[float]:
        """For each sentence: the mean over question tokens of their best cosine to a sentence token."""
        if not sentences:
            return []
        q, *rows = self.token_vectors(
            [(self.query_prefix, question)] + [(self.passage_prefix, s) for s in sentences]
        )
        return [float((q @ s.T).max(axis=1).mean()) for s in rows]


class CrossLingualTieBreak:
    """Reorders the near-tied best passages, and then sentences, of a cross-lingual question by
    word alignment.

    Only the order changes: each passage's and sentence's score stays what the other steps and
    the decline thresholds were fitted on. A passage is compared by its sentence closest to the
    question (by cosine): with 8 tied passages, aligning each one's two closest sentences doubled
    the model time (English p50 1.55x dense-only, ``bench/latency.py``) for the same hit@1 and
    hit@5 (MRR 0.935 vs 0.937 with one).
    """

    SENTENCES_PER_PASSAGE = 1

    def __init__(
        self,
        aligner: TokenAligner | None,
        evidence: SentenceEvidence | None,
        weight: float,
        passage_margin: float,
        sentence_margin: float,
        passage_candidates: int,
        sentence_candidates: int,
    ):
        self.aligner, self.evidence = aligner, evidence
        self.weight = weight
        self.passage_margin, self.sentence_margin = passage_margin, sentence_margin
        self.passage_candidates, self.sentence_candidates = passage_candidates, sentence_candidates

    def active(self, question_language: str, language: str) -> bool:
        return self.aligner is not None and self.weight > 0 and is_cross_lingual(question_language, language)

    @staticmethod
    def tied(scores: Sequence[float], margin: float, candidates: int) -> int:
        """How many of the first ``candidates`` scores (best first) are within ``margin`` of the first."""
        if not scores:
            return 0
        return sum(1 for s in scores[:candidates] if s >= scores[0] - margin)

    def settle(
        self, items: list[T], margin: float, candidates: int, align: Callable[[list[T]], list[float]]
    ) -> list[T]:
        """``items`` (best first) with their near-tied head reordered by score + weight x alignment
        (``align`` scores the head); the same list when nothing is tied."""
        n = self.tied([x.score for x in items], margin, candidates)
        if n < 2:
            return items
        head = items[:n]
        aligned = align(head)
        order = sorted(range(n), key=lambda i: (-(head[i].score + self.weight * aligned[i]), i))
        return [head[i] for i in order] + items[n:]

    def reorder_passages(
        self, question: str, question_language: str, query_embedding: list[float], passages: list[Passage]
    ) -> list[Passage]:
        if not passages or self.evidence is None or not self.active(question_language, passages[0].language):
            return passages
        evidence, aligner = self.evidence, self.aligner
        assert aligner is not None

        def align(head: list[Passage]) -> list[float]:
            closest = [
                [s.text for s in sorted(sentences, key=lambda s: (-s.similarity, s.start))][
                    : self.SENTENCES_PER_PASSAGE
                ]
                for sentences in evidence.by_passage(query_embedding, head).values()
            ]
            # One model pass for every passage's sentences, not one per passage.
            scores = iter(aligner.maxsim(question, [text for texts in closest for text in texts]))
            return [max((next(scores) for _ in texts), default=0.0) for texts in closest]

        ranked = self.settle(passages, self.passage_margin, self.passage_candidates, align)
        if ranked is passages:
            return passages
        return [replace(p, rank=i) for i, p in enumerate(ranked, start=1)]

    def reorder_sentences(
        self, question: str, question_language: str, evidence: list[Evidence]
    ) -> list[Evidence]:
        if not evidence or not self.active(question_language, evidence[0].passage.language):
            return evidence
        aligner = self.aligner
        assert aligner is not None
        return self.settle(
            evidence,
            self.sentence_margin,
            self.sentence_candidates,
            lambda head: aligner.maxsim(question, [e.text for e in head]),
        )
