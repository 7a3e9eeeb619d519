"""Fixtures for training on a user's own robot data: an SO-100-layout LeRobot v3 dataset."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "fixtures"))

from so100 import make_so100_dataset

SMALL_BACKBONE = dict(
    image_size=64, patch_size=16, pool=1, vision_dim=32, vision_layers=1, vision_heads=2,
    lm_dim=64, lm_layers=1, lm_heads=2,
)  # fmt: skip


@pytest.fixture(scope="session")
def so100_dataset(tmp_path_factory) -> Path:
    """12 episodes x 24 frames: two AV1 cameras, 6-dim state and action (SO-100 names)."""
    return make_so100_dataset(tmp_path_factory.mktemp("so100") / "so100", episodes=12, frames=24)
