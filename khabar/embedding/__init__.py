"""The embedding model, from configuration: the bundled e5 by default, any sentence-transformers
model by name. Loaded once per process (it is the slowest thing Khabar starts)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from llama_index.embeddings.huggingface import HuggingFaceEmbedding

from khabar.settings import BUNDLED_E5, Settings


def resolve_model_path(name: str, cache_dir: Path) -> str:
    """Map the configured model name to something sentence-transformers can load."""
    if name == BUNDLED_E5:
        from khabar.embedding.bundled_e5 import materialise

        return str(materialise(cache_dir / "models"))
    return name


@lru_cache(maxsize=4)
def _load(
    name: str, cache_dir: Path, query_prefix: str, passage_prefix: str, batch_size: int, max_tokens: int
) -> HuggingFaceEmbedding:
    if name == BUNDLED_E5:
        # The bundled model is on disk; make sure nothing tries a hub round-trip.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _quiet_transformers()
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


def _quiet_transformers() -> None:
    """Weight-loading bars and long-input notices are noise in a CLI: chunking measures tokens
    on whole articles on purpose, and the model itself never sees more than max_tokens."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def get_embed_model(settings: Settings) -> HuggingFaceEmbedding:
    return _load(
        settings.embed_model,
        Path(settings.model_cache_dir),
        settings.embed_query_prefix,
        settings.embed_passage_prefix,
        settings.embed_batch_size,
        settings.embed_max_tokens,
    )


def token_counter(embed_model: HuggingFaceEmbedding) -> Callable[[str], list[int]]:
    """The model's own tokenizer, so that chunk sizes are measured in the tokens it reads."""
    tokenizer = embed_model._model.tokenizer  # the loaded SentenceTransformer's tokenizer

    def encode(text: str) -> list[int]:
        return tokenizer.encode(text, add_special_tokens=False)

    return encode
