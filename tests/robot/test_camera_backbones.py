"""Several cameras over the rt2-mini and hf backbones (the camera block lives in VLMBackbone)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import rt2.backbones.hf  # noqa: F401  (registers "hf")
from rt2.actions import ActionSpace
from rt2.model import build_vla
from rt2.samples import RobotSample

sys.path.insert(0, str(Path(__file__).parent.parent / "backbones"))

from tiny_hf import save_idefics3, save_paligemma


def _two_cameras(vla, side: int) -> None:
    """Loss, a camera-embedding gradient and acting on (2, H, W, 3) views per sample."""
    rng = np.random.default_rng(0)
    views = rng.integers(0, 256, (2, 2, side, side, 3), dtype=np.uint8)  # (B, C, H, W, 3)
    samples = [
        RobotSample(views[i], "pick up the red cube", np.array([0.1, -0.2, 0.3])) for i in range(2)
    ]
    bb = vla.backbone
    assert bb.cameras == 2
    vla.loss(vla.collate(samples)).loss.backward()
    assert float(bb.camera_embedding.grad.abs().sum()) > 0
    one = bb.image_tokens(bb.preprocess_images(views[0]))  # (1, 2N, D)
    assert one.shape[1] == bb.num_image_tokens
    res = vla.act_batch(list(views), ["pick up the red cube"] * 2)
    assert res.actions.shape == (2, 3)
    with pytest.raises(ValueError, match=r"sees 2 cameras \['front', 'wrist'\]"):
        vla.collate([RobotSample(views[0][0], "x", np.zeros(3))])


SPACE = ActionSpace.from_names(["a", "b", "c"])


@pytest.mark.parametrize("save", [save_paligemma, save_idefics3], ids=["paligemma", "idefics3"])
def test_hf_backbone_sees_two_cameras(tmp_path, save):
    torch.manual_seed(0)
    vla = build_vla("hf", SPACE, num_bins=16, model=str(save(tmp_path / "m")))
    vla = type(vla)(vla.backbone, vla.action_tokenizer, vla.mapping, cameras=("front", "wrist"))
    _two_cameras(vla, 32)


def test_rt2_mini_sees_two_cameras():
    from rt2.backbones.pretrained import smollm2_dir

    smollm2_dir()  # the converted SmolLM2 (cached once per machine)
    torch.manual_seed(0)
    vla = build_vla("rt2-mini", SPACE, num_bins=16, dtype="float32", freeze_lm=True)
    vla = type(vla)(vla.backbone, vla.action_tokenizer, vla.mapping, cameras=("front", "wrist"))
    _two_cameras(vla, 64)
