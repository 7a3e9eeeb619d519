import numpy as np
import pytest


@pytest.fixture(scope="session")
def smollm2_cache():
    """Convert the SmolLM2 GGUF at most once per machine/CI run (file lock + on-disk cache)."""
    from rt2.backbones.pretrained import smollm2_dir

    return smollm2_dir()


@pytest.fixture(scope="session")
def mini(smollm2_cache):
    """One fp32 rt2-mini backbone (frozen LM) shared by the read-only tests."""
    import torch

    from rt2.backbones import build_backbone

    torch.manual_seed(0)
    return build_backbone("rt2-mini", dtype="float32", freeze_lm=True).eval()


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(3, 96, 96, 3), dtype=np.uint8)
