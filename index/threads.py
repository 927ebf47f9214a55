"""How many threads the embedding model computes with: torch is spoken only in ``index/``."""

from __future__ import annotations


def set_model_threads(n: int) -> None:
    """Limit torch's intra-op threads to ``n`` for this process (0: leave torch's default, one per
    core). On cores other busy processes share, a thread that waits for a core holds up the
    others at every layer, so one thread answers a question faster and more steadily."""
    if n > 0:
        import torch  # loaded with the model anyway

        torch.set_num_threads(n)
