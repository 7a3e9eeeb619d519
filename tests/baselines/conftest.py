import numpy as np
import pytest

from rt2.data.collect import CollectConfig, collect

# a tiny RT-1: 64 px frames, 3 frames of history, 2 small Transformer layers, offline text
TINY_RT1 = dict(
    image_size=64, frames=3, tokens_per_frame=4, token_learner_hidden=16, d_model=32,
    num_layers=2, num_heads=2, ff_dim=64, dropout=0.0, frozen_blocks=12, text_encoder="hash",
)  # fmt: skip


@pytest.fixture(scope="session")
def rt1_dataset(tmp_path_factory):
    """Six expert episodes of the tabletop `seen` suite at 64 px."""
    root = tmp_path_factory.mktemp("rt1data") / "seen"
    collect(CollectConfig(out=root, suite="seen", episodes=6, image_size=64, seed=0))
    return root


def random_frames(rng: np.random.Generator, n: int, size: int = 64) -> np.ndarray:
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
