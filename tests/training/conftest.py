import pytest

from rt2.data.collect import CollectConfig, collect


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """Eight expert episodes of the tabletop `seen` suite at 64 px."""
    root = tmp_path_factory.mktemp("data") / "seen"
    collect(CollectConfig(out=root, suite="seen", episodes=8, image_size=64, seed=0))
    return root


SMALL_BACKBONE = dict(
    image_size=64, patch_size=16, pool=1, vision_dim=32, vision_layers=1, vision_heads=2,
    lm_dim=64, lm_layers=1, lm_heads=2,
)  # fmt: skip
