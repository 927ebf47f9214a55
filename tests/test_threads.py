"""KHABAR_EMBED_THREADS reaches torch when the model is loaded, and 0 leaves torch's default."""

from __future__ import annotations

import torch

from index.threads import set_model_threads
from khabar import components


def test_embed_threads_setting_limits_torch_and_zero_leaves_it(make_settings):
    before = torch.get_num_threads()
    try:
        components.embedder(make_settings(embed_threads=1, embed_runtime="torch"))
        assert torch.get_num_threads() == 1
        set_model_threads(0)
        assert torch.get_num_threads() == 1  # 0 changes nothing
    finally:
        torch.set_num_threads(before)
