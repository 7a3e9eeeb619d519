"""Inference and training speed of VLAs: observation -> action latency split by stage.

``rt2 bench`` prints one row per (model, action mapping, precision, batch): median latency of
the vision tower, prompt prefill and action decoding, the whole observation -> action call, the
control rate it allows, and speed ratios measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from rt2.bench_common import (
    INSTRUCTION,
    RT1_SPACE,
    BenchCase,
    BenchRow,
    median_ms,
    random_samples,
    samples_per_s,
)
from rt2.model import VLA, build_vla

if TYPE_CHECKING:
    from rt2.batching import Sample
    from rt2.training.config import TrainConfig


def bench_inference(
    case: BenchCase, build: Callable[[BenchCase], VLA], repeats: int = 10
) -> BenchRow:
    """Median stage latencies of ``act_batch`` over ``repeats`` calls after one warm-up."""
    if case.model == "rt1":  # RT-1 baseline: one forward pass, per-slot frame history
        from rt2.baselines.rt1.bench import bench_rt1_inference

        return bench_rt1_inference(case, repeats)
    torch.manual_seed(0)
    vla = build(case).eval()
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


def bench_training(build: Callable[[BenchCase], VLA], case: BenchCase, steps: int = 5) -> float:
    """Training samples/s (forward + backward + AdamW step) at ``case.batch``."""
    if case.model == "rt1":
        from rt2.baselines.rt1.bench import bench_rt1_training

        return bench_rt1_training(case, steps)
    torch.manual_seed(0)
    vla = build(case).train()
    vla.precision = case.precision  # type: ignore[assignment]
    rng = np.random.default_rng(0)
    samples = random_samples(rng, case.batch, vla.backbone.image_size, vla.action_space)
    batch = vla.collate(samples)
    params = [p for p in vla.parameters() if p.requires_grad]
    return samples_per_s(lambda: vla.loss(batch).loss, params, case.batch, steps)


def bench_closed_loop(
    case: BenchCase, build: Callable[[BenchCase], VLA], max_steps: int = 20
) -> float:
    """Batched closed-loop evaluation throughput, env steps/s: ``case.batch`` tabletop envs in
    lockstep, one policy call per step (chunks played open loop), ``max_steps`` each. A compiled
    case plays the same episodes once untimed first (compiling every batch size they meet)."""
    from rt2.evaluation.runner import EvalConfig, run_evaluation
    from rt2.policies.vla import VLAPolicy

    torch.manual_seed(0)
    vla = build(case).eval()
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


def build_rt1(case: BenchCase):
    from rt2.baselines.rt1.bench import build_rt1_case

    return build_rt1_case(case)


BUILDERS: dict[str, Callable[[BenchCase], VLA]] = {
    "tiny": build_tiny,
    "rt2-mini": build_rt2_mini,
    "rt1": build_rt1,  # type: ignore[dict-item]  (RT-1 baseline, rt1-tabletop sizes)
}


def build_case(case: BenchCase) -> VLA:
    return BUILDERS[case.model](case)


def default_models() -> tuple[str, ...]:
    """tiny, plus rt2-mini when its SmolLM2 cache is ready (no 30 s conversion by surprise)."""
    try:
        from rt2.backbones.pretrained import cache_ready

        return ("tiny", "rt2-mini") if cache_ready() else ("tiny",)
    except ImportError:
        return ("tiny",)


def default_cases(
    batches: tuple[int, ...] = (1, 16),
    models: tuple[str, ...] = ("tiny",),
    compiled: bool = False,
) -> list[BenchCase]:
    """The rows ``rt2 bench`` times; ``compiled`` adds rt2-mini's bf16 rows run through
    ``torch.compile`` (autoregressive at batch 1, parallel with chunks 1 and 8, batch 1 and
    batched; each compiles for ~1-3 min on 2 cores before it is timed)."""
    cases = []
    for model in models:
        if model not in BUILDERS:
            raise KeyError(f"unknown bench model {model!r}; known: {sorted(BUILDERS)}")
        if model == "tiny":
            cases += [
                BenchCase("tiny", mapping, precision, batch)
                for mapping in ("reserved", "integers")
                for precision in ("float32", "bfloat16")
                for batch in batches
            ]
        elif model == "rt1":  # the shipped configuration: one pass, no token mapping
            cases += [
                BenchCase("rt1", "classes", precision, batch, RT1_SPACE, decoding="one-pass")
                for precision in ("float32", "bfloat16")
                for batch in batches
            ]
        else:  # pretrained: batch 1 (one robot), bf16 weights vs int8 LM
            cases += [
                BenchCase(model, mapping, precision, 1)
                for mapping in ("reserved", "integers")
                for precision in ("bfloat16", "int8")
            ]
            # every action token in one pass, one action or a chunk of 8; batch 1 and batched
            cases += [
                BenchCase(model, "reserved", precision, batch, decoding="parallel", chunk=chunk)
                for chunk in (1, 8)
                for precision in ("bfloat16", "int8")
                for batch in sorted({1, batches[-1]})
            ]
            # the tabletop's own action space: 2 dims ("X Y", RT-2's Language-Table format)
            cases += [
                BenchCase(model, "reserved", precision, 1, space="language_table")
                for precision in ("bfloat16", "int8")
            ]
            # the prompt's KV cache kept across calls (an episode's steps repeat the prompt)
            cases += [
                BenchCase(model, "reserved", p, 1, decoding="parallel", prompt_first=True)
                for p in ("bfloat16", "int8")
            ]
            if compiled:  # bf16 only: dynamically quantized int8 linears do not compile
                cases.append(BenchCase(model, "reserved", "bfloat16", 1, compiled=True))
                cases += [
                    BenchCase(
                        model,
                        "reserved",
                        "bfloat16",
                        1,
                        decoding="parallel",
                        chunk=chunk,
                        compiled=True,
                        prompt_first=True,
                    )
                    for chunk in (1, 8)
                ]
                cases += [
                    BenchCase(
                        model,
                        "reserved",
                        "bfloat16",
                        batch,
                        decoding="parallel",
                        chunk=chunk,
                        compiled=True,
                    )
                    for chunk in (1, 8)
                    for batch in sorted({1, batches[-1]})
                ]
    return cases


def preset_samples(config: TrainConfig, n: int, seed: int = 0) -> list[Sample]:
    """``n`` training samples shaped as preset ``config`` trains on: robot frames (with plans
    and action chunks when it writes them) and web items of its mix, in its robot share."""
    from rt2.actions import ActionSpace
    from rt2.batching import RobotSample
    from rt2.data.web import WebCorpus, WebCorpusConfig

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
