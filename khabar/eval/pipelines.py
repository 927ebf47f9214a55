"""The systems ``khabar eval`` can measure, by the name ``--pipeline`` gives them.

Each is a :class:`khabar.eval.build.Pipeline`. Only "khabar" (the real answering path,
:class:`rag.service.QAService`, in :mod:`khabar.eval.khabar_pipeline`) and "stock" (the llama-index
pipeline a user would build instead, :mod:`khabar.eval.stock`); the runner and the reports hold
several pipelines' results side by side. ``--answerer both`` makes "khabar" two pipelines, one per
answerer (:func:`khabar.eval.khabar_pipeline.khabar_pipelines`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from khabar.eval.build import Pipeline
from khabar.eval.khabar_pipeline import KhabarPipeline, khabar_pipelines
from khabar.eval.stock import StockPipeline
from khabar.settings import Settings

__all__ = ["PIPELINES", "make_pipeline", "make_pipelines"]

PIPELINES: dict[str, Callable[[Settings, int, bool], Pipeline]] = {
    "khabar": KhabarPipeline,
    "stock": StockPipeline,
}


def make_pipeline(name: str, settings: Settings, top_k: int, rebuild: bool = False) -> Pipeline:
    """The pipeline called ``name``; ``KeyError`` for a name not in :data:`PIPELINES`."""
    return PIPELINES[name](settings, top_k, rebuild)


def make_pipelines(
    names: Sequence[str],
    settings: Settings,
    top_k: int,
    rebuild: bool = False,
    answerer: str = "",
    connected: Any = None,
) -> list[Pipeline]:
    """The pipelines ``names`` ask for, each once, in order; "khabar" with ``answerer`` ("": the
    configured one; "both": two pipelines), ``connected`` a language model to give it instead of
    the configured one."""
    pipelines: list[Pipeline] = []
    for name in dict.fromkeys(names):
        if name == "khabar":
            pipelines.extend(khabar_pipelines(settings, top_k, rebuild, answerer, connected))
        else:
            pipelines.append(make_pipeline(name, settings, top_k, rebuild))
    return pipelines
