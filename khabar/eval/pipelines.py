"""The systems ``khabar eval`` can measure, by the name ``--pipeline`` gives them.

Each is a :class:`khabar.eval.build.Pipeline`. Only "khabar" (the real answering path,
:class:`rag.service.QAService`, in :mod:`khabar.eval.khabar_pipeline`) and "stock" (the llama-index
pipeline a user would build instead, :mod:`khabar.eval.stock`); the runner and the reports hold
several pipelines' results side by side.
"""

from __future__ import annotations

from collections.abc import Callable

from khabar.eval.build import Pipeline
from khabar.eval.khabar_pipeline import KhabarPipeline
from khabar.eval.stock import StockPipeline
from khabar.settings import Settings

__all__ = ["PIPELINES", "make_pipeline"]

PIPELINES: dict[str, Callable[[Settings, int, bool], Pipeline]] = {
    "khabar": KhabarPipeline,
    "stock": StockPipeline,
}


def make_pipeline(name: str, settings: Settings, top_k: int, rebuild: bool = False) -> Pipeline:
    """The pipeline called ``name``; ``KeyError`` for a name not in :data:`PIPELINES`."""
    return PIPELINES[name](settings, top_k, rebuild)
