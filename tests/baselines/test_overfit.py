"""RT-1 can fit a small dataset: per-dimension bin accuracy on its training frames goes high."""

import numpy as np
import pytest
import torch

from rt2.actions import ActionSpace, ActionTokenizer, compute_stats
from rt2.baselines.rt1 import RT1, RT1Config
from rt2.data.robot import load_robot_sources

from .conftest import TINY_RT1


@pytest.mark.slow
def test_rt1_overfits_a_few_episodes(rt1_dataset):
    torch.manual_seed(0)
    source, _ = load_robot_sources(rt1_dataset, eval_episodes=4, history=2)  # 2 episodes
    samples = [source[i] for i in range(len(source))]
    assert 10 <= len(samples) <= 80
    space = ActionSpace.preset("language_table")
    tokenizer = ActionTokenizer.from_stats(space, compute_stats(source.actions), 256)
    model = RT1(RT1Config(**{**TINY_RT1, "d_model": 64, "ff_dim": 128}), tokenizer)
    batch = model.collate(samples)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    model.train()  # dropout 0 and frozen BatchNorm statistics: train and eval agree
    first = None
    for steps in range(600):  # noqa: B007 (reported below)
        out = model(batch)
        first = first if first is not None else out.metrics["loss"]
        if out.metrics["action_token_acc"] == 1.0:
            break  # before the update, so ``final`` below is this step's
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        final = model.loss(batch).metrics
    print(f"overfit: {len(samples)} frames, {steps} steps, loss {first:.2f} -> {final['loss']:.3f}, "
          f"per-dimension accuracy {final['action_token_acc']:.3f}")  # fmt: skip
    assert final["action_token_acc"] >= 0.95
    assert final["loss"] < 0.3 * first
    # the policy path agrees with the training targets on those frames
    frames = batch.pixels  # (B, F, 3, S, S) already preprocessed; go through logits directly
    with torch.no_grad():
        bins = model.logits(frames, batch.text).argmax(-1)
    assert float((bins == batch.bins).float().mean()) >= 0.95
    assert np.all(bins.numpy() < model.action_tokenizer.num_values)
