"""The model folder's ``tokenizer.json`` read by the ``tokenizers`` library alone.

transformers' ``AutoTokenizer`` wraps the same Rust tokenizer, but importing it pulls in
transformers and torch, seconds before the first answer for nothing the ONNX runtimes use. This
offers the one call shape the ONNX embedder and token encoder make (HF's ``tokenizer(texts,
padding=, truncation=, max_length=, return_tensors="np")`` and ``encode``), with the same ids:
the tests compare it with ``AutoTokenizer`` on Hindi and English text, short and over-long.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


class TokenizerFile:
    """The subset of a transformers fast tokenizer the ONNX runtimes call.

    One tokenizer, never reconfigured (truncation and padding are applied per call to its output),
    so threads can share it: setting truncation on a shared tokenizer per call is what makes
    transformers' fast tokenizers fail across threads ("Already borrowed"). Loading the file is
    most of the cost, so it is loaded once.
    """

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        path = Path(folder) / "tokenizer.json"
        if not path.is_file():
            raise ValueError(f"{folder}: the ONNX runtimes read tokenizer.json, and there is none")
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        config_path = Path(folder) / "tokenizer_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        pad_token = config.get("pad_token") or "<pad>"
        pad_id = self._tokenizer.token_to_id(pad_token if isinstance(pad_token, str) else "<pad>")
        self.pad_token_id = 0 if pad_id is None else pad_id
        self._specials = self._tokenizer.num_special_tokens_to_add(False)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """The ids of the whole text (never truncated)."""
        return self._tokenizer.encode(text, add_special_tokens=add_special_tokens).ids

    def _ids(
        self, text: str, max_length: int | None, add_special_tokens: bool
    ) -> tuple[list[int], list[int]]:
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        if max_length is not None:
            # As transformers truncates one text: the specials count towards max_length.
            encoding.truncate(max(max_length - (self._specials if add_special_tokens else 0), 0))
        if add_special_tokens:
            encoding = self._tokenizer.post_process(encoding)
        return encoding.ids, encoding.attention_mask

    def __call__(
        self,
        texts: str | list[str],
        *,
        padding: bool = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        add_special_tokens: bool = True,
    ) -> dict[str, Any]:
        """``input_ids`` and ``attention_mask``: numpy arrays (batch, tokens) with
        ``return_tensors="np"``, else lists; with ``padding`` a batch is padded to its longest text."""
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        limit = max_length if truncation else None
        encoded = [self._ids(text, limit, add_special_tokens) for text in batch]
        ids = [e[0] for e in encoded]
        mask = [e[1] for e in encoded]
        if padding:
            width = max(len(i) for i in ids)
            ids = [i + [self.pad_token_id] * (width - len(i)) for i in ids]
            mask = [m + [0] * (width - len(m)) for m in mask]
        if return_tensors == "np":
            if len({len(i) for i in ids}) > 1:
                raise ValueError("texts of different lengths need padding=True to make arrays")
            return {
                "input_ids": np.array(ids, dtype=np.int64),
                "attention_mask": np.array(mask, dtype=np.int64),
            }
        if single:
            return {"input_ids": ids[0], "attention_mask": mask[0]}
        return {"input_ids": ids, "attention_mask": mask}
