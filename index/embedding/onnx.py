"""The embedding model run by ONNX Runtime instead of torch: fp32, or int8 (dynamically quantised).

Why not sentence-transformers' ``backend="onnx"``: it exports and loads through optimum, whose
exporter (optimum-onnx) requires transformers<4.58, and Khabar runs transformers 5. So the graph is
exported here with torch's own exporter from the model folder on disk (no hub), int8 comes from
onnxruntime's dynamic quantiser, and onnxruntime (already installed with chromadb) runs it. The
files are written once beside the model folder in the model cache, like the folder itself.

Two graphs can be exported from one model: the whole encoder (its last hidden state is mean-pooled
into unit vectors, as the model's sentence-transformers pooling does) and the first N layers (the
token vectors that word alignment reads); each in fp32 or int8.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.embedding.embedder import TokenEncoder, quiet_transformers
from index.embedding.tokenizer_file import TokenizerFile

logger = logging.getLogger(__name__)

Runtime = Literal["onnx", "onnx-int8"]
# Bumped whenever the exported graphs change, so old exports are rebuilt.
EXPORT_REVISION = "1"
OPSET = 17


def export_path(folder: Path, layers: int | None, int8: bool) -> Path:
    """Where the export of ``folder``'s model (all layers, or the first ``layers``) is cached."""
    stem = "model" if layers is None else f"layers-{layers}"
    return folder.parent / f"{folder.name}-onnx{EXPORT_REVISION}" / f"{stem}{'-int8' if int8 else ''}.onnx"


def exported(folder: Path, layers: int | None = None, int8: bool = False) -> Path:
    """The ONNX graph of the model in ``folder``, exported (and quantised) once.

    Each file is written under a temporary name in its own directory and renamed into place, so an
    interrupted export never leaves a half-written graph that later runs would load; two processes
    exporting at once each finish and the second rename replaces an equivalent file.
    """
    target = export_path(folder, layers, int8)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("exporting the embedding model for ONNX Runtime (once): %s", target.name)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as tmp:
        staging = Path(tmp) / target.name
        if int8:
            fp32 = export_path(folder, layers, int8=False)
            source = fp32 if fp32.is_file() else _export(folder, layers, Path(tmp) / "fp32.onnx")
            _quantise(source, staging)
        else:
            _export(folder, layers, staging)
        os.replace(staging, target)
    return target


def _export(folder: Path, layers: int | None, out: Path) -> Path:
    import torch
    from transformers import AutoModel, AutoTokenizer

    quiet_transformers()  # imported only here: the runtimes themselves never load transformers

    class Encoder(torch.nn.Module):
        """Embeddings and the first ``layers`` encoder layers with an explicit additive attention
        mask: the graph then holds exactly this arithmetic, whatever mask helpers the installed
        transformers version routes its own forward through."""

        def __init__(self, model: Any, layers: int):
            super().__init__()
            self.embeddings = model.embeddings
            self.layers = torch.nn.ModuleList(list(model.encoder.layer)[:layers])

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.embeddings(input_ids=input_ids)
            keep = attention_mask[:, None, None, :].to(hidden.dtype)
            mask = (1.0 - keep) * torch.finfo(hidden.dtype).min
            for layer in self.layers:
                hidden = layer(hidden, mask)
            return hidden

    # A fresh copy of the weights: the exporter's tracing must not touch a model in use.
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    depth = len(model.encoder.layer) if layers is None else layers
    if not 1 <= depth <= len(model.encoder.layer):
        raise ValueError(f"the model has {len(model.encoder.layer)} layers, not {depth}")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    sample = tokenizer(["passage: one", "passage: a second, longer text"], padding=True, return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns about every Python-level branch it freezes; the graph is checked against
    # torch's vectors instead (tests/test_onnx_runtime.py).
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(model, depth),
            (sample["input_ids"], sample["attention_mask"]),
            str(out),
            dynamo=False,  # the tracing exporter: the dynamo one needs onnxscript, not installed
            input_names=["input_ids", "attention_mask"],
            output_names=["hidden_states"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "hidden_states": axes},
            opset_version=OPSET,
        )
    return out


def _quantise(source: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Unsigned weights: with signed ones, CPUs without VNNI saturate int8 products (u8 x s8 pairs
    # summed in 16 bits) unless the range is halved; per channel keeps each output row's scale.
    quiet = logging.getLogger()  # the quantiser advises shape pre-processing on the root logger
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(source, out, weight_type=QuantType.QUInt8, per_channel=True)
    finally:
        quiet.setLevel(level)


def session(path: Path, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session over ``path`` (``threads``: intra-op threads; None: its default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _check_mean_pooling(folder: Path) -> None:
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text()) if pooling.is_file() else {}
    if not config.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{folder}: the ONNX runtimes pool by mean; this model pools otherwise")


class OnnxEmbedder:
    """The :class:`index.embedding.Embedder` protocol over an ONNX graph of a sentence-transformers
    model folder: same tokenizer, prompts, truncation, mean pooling and normalisation as the
    model's own modules (hand-written because sentence-transformers' ONNX path needs optimum)."""

    def __init__(
        self,
        folder: Path,
        name: str,
        query_prefix: str,
        passage_prefix: str,
        batch_size: int,
        max_tokens: int,
        int8: bool = False,
        threads: int | None = None,
    ):
        _check_mean_pooling(folder)
        self.folder, self.name, self.int8, self.threads = folder, name, int8, threads
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.batch_size, self.max_tokens = batch_size, max_tokens
        # tokenizer.json read without transformers (and torch): seconds off every cold start.
        self._tokenizer = TokenizerFile(folder)
        # Kept although TokenizerFile configures each tokenizer once: the ids it returns must not
        # depend on which thread asked first. The session itself is thread-safe.
        self._tokenizer_lock = threading.Lock()
        self._session = session(exported(folder, None, int8), threads)
        self._llama_index: Any = None

    @property
    def runtime(self) -> Runtime:
        return "onnx-int8" if self.int8 else "onnx"

    def _encode(self, texts: list[str]) -> list[list[float]]:
        # Longest first, like sentence-transformers: batches of similar lengths pad least.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[np.ndarray] = [np.empty(0)] * len(texts)
        # int8 quantises activations with one scale per run: in a batch, a text's vector would move
        # with its batch-mates (up to 0.005 cosine), and embedding it again (a repair, a re-ingest)
        # would not give back the stored vector. One text per run keeps a text's vector its own.
        size = 1 if self.int8 else self.batch_size
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            with self._tokenizer_lock:
                enc = self._tokenizer(
                    [texts[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="np",
                )
            mask = enc["attention_mask"].astype(np.int64)
            (hidden,) = self._session.run(
                None, {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": mask}
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for i, vector in zip(batch, pooled, strict=True):
                out[i] = vector
        return [v.tolist() for v in out]

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self.query_prefix + text])[0]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode([self.passage_prefix + t for t in texts]) if texts else []

    def token_ids(self, text: str) -> list[int]:
        with self._tokenizer_lock:
            return self._tokenizer.encode(text, add_special_tokens=False)

    def token_encoder(self, layer: int, max_tokens: int, cache_size: int) -> TokenEncoder | None:
        return OnnxTokenEncoder(
            self.folder,
            self._tokenizer,
            layer,
            {"query": self.query_prefix, "passage": self.passage_prefix},
            max_tokens,
            cache_size,
            self.int8,
            self.threads,
            self._tokenizer_lock,
        )

    @property
    def llama_index_model(self) -> Any:
        """This runtime as a llama-index embedding, for the stock pipeline that eval compares against."""
        if self._llama_index is None:
            self._llama_index = llama_index_embedding(self)
        return self._llama_index


class OnnxTokenEncoder(TokenEncoder):
    """Token vectors of one layer from an export of the model's first ``layer`` layers (a graph of
    the whole model would run every layer to read a middle one)."""

    def __init__(
        self,
        folder: Path,
        tokenizer: Any,
        layer: int,
        prefixes: dict[str, str],
        max_tokens: int,
        cache_size: int,
        int8: bool,
        threads: int | None = None,
        tokenizer_lock: threading.Lock | None = None,
    ):
        self._session = session(exported(folder, layer, int8), threads)
        self._tokenizer_lock = tokenizer_lock or threading.Lock()  # shared with the embedder's
        self._setup(tokenizer, prefixes, max_tokens, cache_size)

    def _hidden_states(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        # One text per run: int8 quantises activations with one scale per run, so a batch would
        # make a text's vectors depend on its batch-mates (and on which of them the cache held).
        with self._tokenizer_lock:
            encoded = [
                self.tokenizer(text, truncation=True, max_length=self.max_tokens, return_tensors="np")
                for text in texts
            ]
        states = [
            self._session.run(
                None,
                {
                    "input_ids": enc["input_ids"].astype(np.int64),
                    "attention_mask": enc["attention_mask"].astype(np.int64),
                },
            )[0][0]
            for enc in encoded
        ]
        lengths = [len(h) for h in states]
        hidden = np.zeros((len(states), max(lengths), states[0].shape[1]), dtype=np.float32)
        for row, h in zip(hidden, states, strict=True):
            row[: len(h)] = h
        return hidden, lengths


def llama_index_embedding(model: Any) -> Any:
    """Any :class:`index.embedding.Embedder` as a llama-index ``BaseEmbedding`` (its documented
    extension point for custom models)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class KhabarEmbedding(BaseEmbedding):
        _model: Any = PrivateAttr()

        def __init__(self, model: Any):
            super().__init__(model_name=model.name, embed_batch_size=getattr(model, "batch_size", 32))
            self._model = model

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._model.embed_query(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._model.embed_query(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._model.embed_passages([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._model.embed_passages(texts)

    return KhabarEmbedding(model)
