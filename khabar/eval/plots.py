"""The report's three plots, as PNG bytes for embedding in ``report.html``.

Figures are made with :class:`matplotlib.figure.Figure` directly, not ``pyplot``: no global
figure state, no GUI backend, nothing left open. Labels are metric names and language codes
only (never question text), so no Devanagari font is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from khabar.eval.scoring import METRICS

__all__ = ["BAR_METRICS", "latency_histogram", "metric_bars", "rank_histogram"]

# The 0..1 quality metrics worth comparing across languages at a glance.
BAR_METRICS = (
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr@10",
    "ndcg@10",
    "answer_accuracy",
    "top_sentence_accuracy",
    "token_f1",
    "citation_precision",
    "citation_support",
)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def metric_bars(by_language: dict[str, dict[str, Any]]) -> bytes:
    """Grouped bars: one group per metric, one bar per question language."""
    from matplotlib.figure import Figure

    languages = sorted(by_language)
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    width = 0.8 / max(len(languages), 1)
    for i, lang in enumerate(languages):
        values = [by_language[lang].get(m) for m in BAR_METRICS]
        xs = [j + (i - (len(languages) - 1) / 2) * width for j in range(len(BAR_METRICS))]
        n = by_language[lang].get("questions", 0)
        ax.bar(xs, [v if v is not None else 0.0 for v in values], width, label=f"{lang} (n={n})")
    ax.set_xticks(range(len(BAR_METRICS)))
    ax.set_xticklabels([METRICS[m].label for m in BAR_METRICS], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("Metrics by question language")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="question language")
    return _png(fig)


def rank_histogram(ranks: Sequence[int | None], top_k: int) -> bytes:
    """Answerable questions by the passage rank at which a gold article first appeared."""
    from matplotlib.figure import Figure

    labels = [str(r) for r in range(1, top_k + 1)] + ["not found"]
    counts = [sum(1 for r in ranks if r == k) for k in range(1, top_k + 1)]
    counts.append(sum(1 for r in ranks if r is None or r > top_k))
    fig = Figure(figsize=(8, 3.5))
    ax = fig.add_subplot()
    colours = ["tab:blue"] * top_k + ["tab:red"]
    ax.bar(range(len(labels)), counts, color=colours)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels)
    ax.set_xlabel(f"passage rank of the first gold article (top {top_k} retrieved)")
    ax.set_ylabel("questions")
    ax.set_title("Where the gold article was found")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def latency_histogram(retrieval_ms: Sequence[float], answer_ms: Sequence[float]) -> bytes:
    """Distribution of per-question retrieval (embed + retrieve) and answering times."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.5))
    for i, (title, values, colour) in enumerate(
        (("retrieval (embed + retrieve)", retrieval_ms, "tab:blue"), ("answering", answer_ms, "tab:green"))
    ):
        ax = fig.add_subplot(1, 2, i + 1)
        if values:
            ax.hist(list(values), bins=min(30, max(5, len(values) // 3)), color=colour)
        ax.set_title(title)
        ax.set_xlabel("ms")
        ax.set_ylabel("questions")
        ax.grid(axis="y", alpha=0.3)
    return _png(fig)
