"""The tiny VLA memorises a handful of (image, instruction) -> action pairs, then acts them."""

import numpy as np
import pytest
import torch

from rt2.model import build_vla
from rt2.samples import RobotSample, TextSample


def make_samples(space, n: int, size: int, seed: int = 0) -> list[RobotSample]:
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        img = np.zeros((size, size, 3), np.uint8)
        img[:] = rng.integers(0, 256, 3)
        y, x = rng.integers(0, size * 3 // 4, 2)
        img[y : y + size // 4, x : x + size // 4] = rng.integers(0, 256, 3)
        action = rng.uniform(space.low, space.high)
        action[0] = i % 2  # terminate
        colour = ["red", "blue", "green"][i % 3]
        samples.append(
            RobotSample(img, f"push the {colour} block {['left', 'up'][i // 3 % 2]}", action)
        )
    return samples


def overfit(vla, samples, max_steps: int, lr: float) -> dict:
    torch.manual_seed(0)
    batch = vla.collate(samples)
    opt = torch.optim.AdamW(vla.parameters(), lr=lr, weight_decay=0.0)
    metrics = {}
    for _ in range(max_steps):
        out = vla.loss(batch)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        metrics = out.metrics
        if metrics["action_token_acc"] == 1.0 and metrics["loss"] < 0.02:
            break
    return metrics


def check_acts(vla, samples):
    robot = [s for s in samples if isinstance(s, RobotSample)]
    vla.eval()
    res = vla.act_batch([s.image for s in robot], [s.instruction for s in robot])
    truth = np.stack([s.action for s in robot])
    assert np.array_equal(res.bins, vla.action_tokenizer.encode(truth))
    # act returns the bin centre: within one bin of the demonstrated action
    for s in robot:
        assert np.all(
            np.abs(vla.act(s.image, s.instruction) - s.action) <= vla.action_tokenizer.bin_width()
        )


@pytest.mark.parametrize("mapping", ["reserved", "integers"])
def test_small_vla_overfits_actions_and_answers(small_config, mapping):
    torch.manual_seed(0)
    vla = build_vla("tiny", "rt2", mapping=mapping, **small_config)
    samples = [
        *make_samples(vla.action_space, 6, 64),
        TextSample(None, "Q: is a cola carbonated? A:", "yes"),
    ]
    metrics = overfit(vla, samples, max_steps=600, lr=3e-3)
    assert metrics["action_token_acc"] == 1.0, metrics
    check_acts(vla, samples)
    assert vla.answer([None], ["Q: is a cola carbonated? A:"]) == ["yes"]


@pytest.mark.slow
def test_default_tiny_vla_overfits(tmp_path):
    """The default-size tiny backbone (5.5M params, 128 px) learns in seconds with reserved ids."""
    torch.manual_seed(0)
    vla = build_vla("tiny", "rt2")
    samples = make_samples(vla.action_space, 6, 128)
    metrics = overfit(vla, samples, max_steps=300, lr=1e-3)
    assert metrics["action_token_acc"] == 1.0, metrics
    check_acts(vla, samples)
