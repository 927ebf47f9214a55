"""The embedding model: the bundled e5 by default, any sentence-transformers model by name.

Everything above ``index/`` sees only the :class:`Embedder` protocol (queries, passages, token
counts) and, where a model has one, the optional :class:`TokenEncoder` capability (token vectors
of a middle layer, for word alignment). Nothing above reaches into llama-index or torch objects,
so a faster runtime (ONNX, a C encoder) can take the model's place by implementing the protocol.

The model is loaded once per process (it is the slowest thing Khabar starts).
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

BUNDLED_E5 = "bundled:multilingual-e5-small"

TextKind = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    """What ingestion and answering need from an embedding model."""

    name: str

    def embed_query(self, text: str) -> list[float]:
        """One question's unit vector (with the model's query prompt)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit vectors of passages, in order (with the model's passage prompt)."""
        ...

    def token_ids(self, text: str) -> list[int]:
        """The model's own tokens of ``text`` (no special tokens): chunk sizes are measured in them."""
        ...

    def token_encoder(self, layer: int, max_tokens: int, cache_size: int) -> TokenEncoder | None:
        """Token vectors of ``layer``, or None when the model has no such layers to read."""
        ...


@lru_cache(maxsize=4)
def load_embedder(
    name: str,
    cache_dir: Path,
    query_prefix: str,
    passage_prefix: str,
    batch_size: int,
    max_tokens: int,
    runtime: str = "auto",
) -> Embedder:
    """The model by configured name, loaded once per process and configuration.

    ``runtime`` is what runs it: ``torch`` (through sentence-transformers), or ``onnx`` /
    ``onnx-int8`` (an export of the same weights through ONNX Runtime: index/embedding/onnx.py);
    ``auto`` is onnx-int8 for the bundled model, whose quality it was measured to keep, and torch
    for any other.
    """
    runtime = resolved_runtime(name, runtime)
    if runtime != "torch":
        from index.embedding.onnx import OnnxEmbedder

        if runtime not in ("onnx", "onnx-int8"):
            raise ValueError(f"unknown embedding runtime {runtime!r} (torch, onnx or onnx-int8)")
        if name == BUNDLED_E5:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        folder = Path(resolve_model_path(name, cache_dir))
        if not (folder / "config.json").is_file():
            raise ValueError(f"the {runtime} runtime exports a model folder on disk; {name!r} is not one")
        return OnnxEmbedder(
            folder, name, query_prefix, passage_prefix, batch_size, max_tokens, int8=runtime == "onnx-int8"
        )
    return SentenceTransformerEmbedder(
        _load(name, cache_dir, query_prefix, passage_prefix, batch_size, max_tokens),
        name,
        query_prefix,
        passage_prefix,
    )


def resolved_runtime(name: str, runtime: str) -> str:
    """What runs the model named ``name`` under the ``runtime`` setting: ``auto`` is onnx-int8 for
    the bundled model and torch for any other."""
    if runtime == "auto":
        return "onnx-int8" if name == BUNDLED_E5 else "torch"
    return runtime


def resolve_model_path(name: str, cache_dir: Path) -> str:
    """Map the configured model name to something sentence-transformers can load."""
    if name == BUNDLED_E5:
        from index.embedding.bundled_e5 import materialise

        return str(materialise(cache_dir / "models"))
    return name


def _load(
    name: str, cache_dir: Path, query_prefix: str, passage_prefix: str, batch_size: int, max_tokens: int
) -> HuggingFaceEmbedding:
    # Imported here: loading torch and transformers takes seconds, and reading settings or the
    # CLI's help must not pay for it.
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    if name == BUNDLED_E5:
        # The bundled model is on disk; make sure nothing tries a hub round-trip.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet_transformers()
    return HuggingFaceEmbedding(
        model_name=resolve_model_path(name, cache_dir),
        query_instruction=query_prefix,
        text_instruction=passage_prefix,
        embed_batch_size=batch_size,
        max_length=max_tokens,
        device="cpu",
        cache_folder=str(cache_dir / "hub"),
        normalize=True,
    )


def quiet_transformers() -> None:
    """Weight-loading bars and long-input notices are noise in a CLI: chunking measures tokens
    on whole articles on purpose, and the model itself never sees more than max_tokens."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class SentenceTransformerEmbedder:
    """A sentence-transformers model through llama-index's ``HuggingFaceEmbedding`` (which batches,
    prompts and normalises); the one place that knows the model object inside it."""

    def __init__(self, model: HuggingFaceEmbedding, name: str, query_prefix: str, passage_prefix: str):
        self._model = model
        self.name = name
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self._tokenizer = self._sentence_transformer.tokenizer

    @property
    def _sentence_transformer(self) -> Any:
        return self._model._model  # the loaded SentenceTransformer (llama-index keeps it private)

    @property
    def llama_index_model(self) -> HuggingFaceEmbedding:
        """The llama-index embedding itself, for the stock pipeline that eval compares against."""
        return self._model

    def embed_query(self, text: str) -> list[float]:
        return self._model.get_query_embedding(text)

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._model.get_text_embedding_batch(list(texts))

    def token_ids(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False)

    def token_encoder(self, layer: int, max_tokens: int, cache_size: int) -> TokenEncoder | None:
        try:
            return TokenEncoder(
                self._sentence_transformer,
                layer,
                {"query": self.query_prefix, "passage": self.passage_prefix},
                max_tokens,
                cache_size,
            )
        except (AttributeError, TypeError, IndexError):
            return None  # not a Hugging Face encoder stack: no token vectors to read


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


class TokenEncoder:
    """Unit-length token vectors from one encoder layer, of the same model that embeds.

    Why hand-written: word alignment needs the hidden states of the embedding model already
    loaded (no second model may be downloaded here); libraries that score with token vectors
    (ColBERT, RAGatouille, SimAlign) load their own checkpoints from a hub.
    """

    def __init__(
        self,
        sentence_transformer: Any,
        layer: int,
        prefixes: dict[str, str],
        max_tokens: int,
        cache_size: int,
    ):
        import torch

        self._torch = torch
        self.model = truncated_encoder(sentence_transformer[0].auto_model, layer)
        self._setup(sentence_transformer.tokenizer, prefixes, max_tokens, cache_size)

    def _setup(self, tokenizer: Any, prefixes: dict[str, str], max_tokens: int, cache_size: int) -> None:
        """What every runtime's token encoder shares: prompts, truncation and the cache."""
        self.tokenizer = tokenizer
        self.prefixes = prefixes
        # Tokens to drop from the front of each encoded text: <s> and the prompt's own tokens.
        self._skip = {kind: 1 + self._prefix_length(prefix) for kind, prefix in prefixes.items()}
        self.max_tokens = max_tokens
        # Texts come back question after question (a conversation, an evaluation); their token
        # vectors are kept (float16).
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _prefix_length(self, prefix: str) -> int:
        if not prefix.strip():
            return 0
        return len(self.tokenizer(prefix.strip(), add_special_tokens=False)["input_ids"])

    def vectors(self, texts: Sequence[tuple[TextKind, str]]) -> list[np.ndarray]:
        """Unit-length token vectors of each (kind, text), without special and prompt tokens.

        Texts not in the cache go through the model in one batch, whatever their kind: a
        question's own pass costs several times its share of a batch with the tied sentences.
        """
        with self._lock:
            # The hits are taken now: another thread may evict them before this call returns.
            found = {key: self._cache[key] for key in texts if key in self._cache}
            for key in found:
                self._cache.move_to_end(key)
        missing = [key for key in dict.fromkeys(texts) if key not in found]
        fresh: dict[tuple[str, str], np.ndarray] = {}
        if missing:
            hidden, lengths = self._hidden_states([self.prefixes[kind] + text for kind, text in missing])
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

    def _hidden_states(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        """The layer's states of each text (padded to the longest) and each text's token count."""
        enc = self.tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_tokens
        )
        with self._torch.inference_mode():
            hidden = self.model(**enc).last_hidden_state.float().numpy()
        return hidden, enc["attention_mask"].sum(dim=1).tolist()
