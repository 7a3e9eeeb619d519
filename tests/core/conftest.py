import numpy as np
import pytest
import torch

from rt2.model import build_vla

SMALL = dict(
    image_size=64, patch_size=16, pool=1, vision_dim=64, vision_layers=1, vision_heads=2,
    lm_dim=64, lm_layers=2, lm_heads=2,
)  # fmt: skip


@pytest.fixture
def small_config() -> dict:
    return dict(SMALL)


@pytest.fixture
def small_vla():
    def make(space: str = "rt2", mapping: str = "reserved", **kw):
        return build_vla("tiny", space, mapping=mapping, **{**SMALL, **kw})

    return make


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(4, 64, 64, 3), dtype=np.uint8)


@pytest.fixture
def fit():
    """fit(vla, batch, steps): AdamW at 2e-3 on one batch; returns the last step's metrics."""

    def run(vla, batch, steps: int) -> dict:
        opt = torch.optim.AdamW(vla.parameters(), lr=2e-3)
        for _ in range(steps):
            out = vla.loss(batch)
            opt.zero_grad()
            out.loss.backward()
            opt.step()
        return out.metrics

    return run
