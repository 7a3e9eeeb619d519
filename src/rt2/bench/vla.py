"""The VLAs' bench rows: stage latencies of ``act_batch``, training and closed-loop throughput,
and a preset's training samples/s on its own batch and sample mix."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from rt2.bench.cases import INSTRUCTION, BenchCase, BenchRow
from rt2.bench.timing import median_ms, random_samples, samples_per_s
from rt2.model import VLA, build_vla

if TYPE_CHECKING:
    from rt2.samples import Sample
    from rt2.training.config import TrainConfig


def vla_inference(vla: VLA, case: BenchCase, repeats: int = 10) -> BenchRow:
    """Median stage latencies of ``act_batch`` over ``repeats`` calls after one warm-up."""
    vla.eval()
    vla.precision = case.precision  # type: ignore[assignment]
    if case.compiled:
        torch._dynamo.reset()  # one process compiles many models: start each one's cache afresh
        vla.compile_for_inference()
    size = vla.backbone.image_size
    images = np.random.default_rng(0).integers(0, 256, (case.batch, size, size, 3), dtype=np.uint8)
    instructions = [INSTRUCTION] * case.batch
    vla.act_batch(images, instructions)  # warm-up (compiles a compiled case's graphs)
    stages: dict[str, list[float]] = {"vision": [], "prefill": [], "decode": [], "total": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = vla.act_batch(images, instructions)
        stages["total"].append(time.perf_counter() - t0)
        for k, v in res.timings.items():
            stages[k].append(v)
    return BenchRow(
        case=case,
        params=vla.backbone.num_parameters(),
        tokens_per_action=vla.mapping.tokens_per_action(res.bins[0]),
        vision_ms=median_ms(stages["vision"]),
        prefill_ms=median_ms(stages["prefill"]),
        decode_ms=median_ms(stages["decode"]),
        total_ms=median_ms(stages["total"]),
    )


def vla_training(vla: VLA, case: BenchCase, steps: int = 5) -> float:
    """Training samples/s (forward + backward + AdamW step) at ``case.batch``."""
    vla.train()
    vla.precision = case.precision  # type: ignore[assignment]
    rng = np.random.default_rng(0)
    samples = random_samples(rng, case.batch, vla.backbone.image_size, vla.action_space)
    batch = vla.collate(samples)
    params = [p for p in vla.parameters() if p.requires_grad]
    return samples_per_s(lambda: vla.loss(batch).loss, params, case.batch, steps)


def vla_closed_loop(vla: VLA, case: BenchCase, max_steps: int = 20) -> float:
    """Batched closed-loop evaluation throughput, env steps/s: ``case.batch`` tabletop envs in
    lockstep, one policy call per step (chunks played open loop), ``max_steps`` each. A compiled
    case plays the same episodes once untimed first (compiling every batch size they meet)."""
    from rt2.evaluation.runner import EvalConfig, run_evaluation
    from rt2.policies.vla import VLAPolicy

    vla.eval()
    vla.precision = "bfloat16"
    config = EvalConfig(("seen",), case.batch, num_envs=case.batch, max_steps=max_steps)
    if case.compiled:
        torch._dynamo.reset()
        vla.compile_for_inference()
        run_evaluation(config, VLAPolicy(vla))
    t0 = time.perf_counter()
    records = run_evaluation(config, VLAPolicy(vla))
    return sum(r.steps for r in records) / (time.perf_counter() - t0)


def build_tiny(case: BenchCase) -> VLA:
    return build_vla("tiny", case.space, mapping=case.mapping, decoding=case.decoding_config())


def build_rt2_mini(case: BenchCase) -> VLA:
    """rt2-mini for inference (``bfloat16`` weights, or ``int8`` LM) or, for training cases
    (precision ``float32``/``bfloat16`` autocast), as the presets train it."""
    from rt2.training.presets import RT2_MINI_VLA_BACKBONE  # the `rt2-mini` preset's backbone

    options = (
        {k: v for k, v in RT2_MINI_VLA_BACKBONE.items() if k != "feature_cache"}
        if case.train
        else {"prompt_first": True}
        if case.prompt_first
        else {}
    )
    vla = build_vla(
        "rt2-mini",
        case.space,
        mapping=case.mapping,
        decoding=case.decoding_config(),
        **options,  # type: ignore[arg-type]
    )
    if case.precision == "int8" or (case.precision == "bfloat16" and not case.train):
        vla.backbone.to_inference(case.precision)  # type: ignore[operator]
    return vla


def preset_samples(config: TrainConfig, n: int, seed: int = 0) -> list[Sample]:
    """``n`` training samples shaped as preset ``config`` trains on: robot frames (with plans
    and action chunks when it writes them) and web items of its mix, in its robot share."""
    from rt2.actions import ActionSpace
    from rt2.data.web import WebCorpus, WebCorpusConfig
    from rt2.samples import RobotSample

    rng = np.random.default_rng(seed)
    data, model = config.data, config.model
    space = ActionSpace.preset(model.action_space, **model.action_space_options)
    plan = data.plan_format()
    mix = {"weights": dict(data.web_weights)} if data.web_weights else {}
    web = WebCorpus(
        WebCorpusConfig(size=n, seed=seed, point_code=data.plan_code, **mix)  # type: ignore[arg-type]
    )
    share = data.weights.get("robot", 0.0) / sum(data.weights.values())
    samples = []
    for i in range(n):
        if rng.random() < share:
            action = rng.uniform(space.low, space.high, (model.chunk, len(space.dims)))  # (K, D)
            samples.append(
                RobotSample(
                    rng.integers(0, 256, (128, 128, 3), dtype=np.uint8),
                    INSTRUCTION,
                    action if model.chunk > 1 else action[0],
                    plan=None if plan is None else plan.text(rng.uniform(-1, 1, plan.dim)),
                )
            )
        else:
            samples.append(web[i])
    return samples


def bench_preset_training(
    preset: str | TrainConfig, steps: int = 4, seed: int = 0
) -> dict[str, float]:
    """A preset's (a name or a ``TrainConfig``) training samples/s on its own batch size and
    sample mix (random pixels, plans and actions; its web items), and its mean tokens per
    sample."""
    from dataclasses import replace

    from rt2.training.factory import build_model
    from rt2.training.presets import get_preset

    config = get_preset(preset) if isinstance(preset, str) else preset
    model_config = replace(config.model, init=None, bounds="fixed")  # speed only: no data
    torch.manual_seed(seed)
    vla = build_model(model_config, stats=None).train()
    vla.precision = "bfloat16"
    batch = vla.collate(preset_samples(config, config.optim.batch_size, seed))
    params = [p for p in vla.parameters() if p.requires_grad]
    sps = samples_per_s(lambda: vla.loss(batch).loss, params, len(batch), steps)
    tokens = float(batch.attention_mask.sum()) / len(batch) + vla.backbone.num_image_tokens
    return {"samples_per_s": sps, "tokens_per_sample": tokens, "batch": len(batch)}
