"""``rt2 bench --models rt1``: RT-1 latency (vision / Transformer / whole policy step), control
rate and training samples/s, as :class:`rt2.bench.cases.BenchRow` rows next to the VLAs'.

Inference is timed in the steady state of an episode: the policy holds the tokens of the
earlier frames, so each step encodes one new image per robot ("vision") and runs the Transformer
over all frames ("prefill" column; RT-1 has no autoregressive decoding).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from rt2.actions import ActionSpace, ActionTokenizer
from rt2.baselines.rt1.factory import rt1_config
from rt2.baselines.rt1.model import RT1
from rt2.bench.cases import INSTRUCTION, BenchCase, BenchRow
from rt2.bench.timing import median_ms, random_samples, samples_per_s
from rt2.policies.rt1 import RT1Policy


def build_rt1_case(case: BenchCase) -> RT1:
    """RT-1 at the ``rt1-tabletop`` preset's sizes and bins (what `rt2 train --preset
    rt1-tabletop` trains), in ``case.space``."""
    from rt2.training.presets import get_preset

    torch.manual_seed(0)
    model = get_preset("rt1-tabletop").model
    return RT1(rt1_config(model), ActionTokenizer(ActionSpace.preset(case.space), model.num_bins))


def bench_rt1_inference(case: BenchCase, repeats: int = 10) -> BenchRow:
    """Median ms of one policy step for ``case.batch`` robots (each with its own history)."""
    model = build_rt1_case(case)
    policy = RT1Policy(model, precision=case.precision)
    size = model.config.image_size
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (case.batch, size, size, 3), dtype=np.uint8)
    obs = [
        {"image": images[i], "instruction": INSTRUCTION, "env_slot": i} for i in range(case.batch)
    ]
    for _ in range(model.config.frames):  # warm-up, and fill every slot's history
        policy.infer_batch(obs)
    vision, transformer, total = [], [], []
    tokens = torch.stack(
        [torch.stack(list(policy._history[i])) for i in range(case.batch)]
    )  # (B, F, T, d)
    for _ in range(repeats):
        t0 = time.perf_counter()
        policy.infer_batch(obs)
        total.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.encode_frames(images, [INSTRUCTION] * case.batch)
        vision.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.act_tokens(tokens)
        transformer.append(time.perf_counter() - t0)
    return BenchRow(
        case=case,
        params=model.num_parameters(),
        tokens_per_action=0,  # one forward pass gives every dimension's bin
        vision_ms=median_ms(vision),
        prefill_ms=median_ms(transformer),
        decode_ms=0.0,
        total_ms=median_ms(total),
    )


def bench_rt1_training(case: BenchCase, steps: int = 5) -> float:
    """Training samples/s (6 frames per sample, forward + backward + AdamW) at ``case.batch``."""
    torch.manual_seed(0)
    model = build_rt1_case(replace(case)).train()
    size, frames = model.config.image_size, model.config.frames
    rng = np.random.default_rng(0)
    samples = random_samples(rng, case.batch, size, model.action_space, history=frames - 1)
    autocast = case.precision == "bfloat16"

    def loss() -> torch.Tensor:  # collating is part of each timed step
        batch = model.collate(samples)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            return model(batch).loss

    params = [p for p in model.parameters() if p.requires_grad]
    return samples_per_s(loss, params, case.batch, steps)
