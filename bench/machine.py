"""What every benchmark records beside its figures: the machine, the library versions and the
embedding setup the figures depend on, and the load average (these machines are shared: a figure
without the load it was measured under cannot be compared).

Imported by the scripts in this folder (bench/ is on ``sys.path`` when one runs). Nothing here
imports torch or transformers: a benchmark of the ONNX runtimes must not load them to describe itself.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("torch", "onnxruntime", "transformers", "sentence-transformers", "chromadb", "llama-index-core")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine(**extra: Any) -> dict[str, Any]:
    """Cores, CPU model, Python and library versions, the configured model and its runtime (as
    ``auto`` resolves), and the load average now (``load_average_before``); ``extra`` is added."""
    from index.embedding.embedder import BUNDLED_E5
    from khabar.settings import Settings

    settings = Settings()
    runtime = settings.embed_runtime
    if runtime == "auto":  # the rule of index/embedding/embedder.py's `auto`
        runtime = "onnx-int8" if settings.embed_model == BUNDLED_E5 else "torch"
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "versions": versions,
        "model": settings.embed_model,
        "embed_runtime": settings.embed_runtime,
        "embed_runtime_resolved": runtime,
        "embed_threads": settings.embed_threads,
        "load_average_before": load_average(),
        **extra,
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return platform.processor()
    names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if "model name" in ln]
    return names[0] if names else ""
