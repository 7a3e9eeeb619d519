"""The RT-1 baseline presets (rt2.baselines.rt1)."""

from __future__ import annotations

from dataclasses import replace

from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.presets.registry import register_preset


# ---- RT-1 baseline (rt2.baselines.rt1) -----------------------------------------------------
def _rt1(
    steps: int, batch_size: int, num_bins: int = 256, lr: float = 3e-4, **options: object
) -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(
            kind="rt1",
            backbone="efficientnet-lite0",  # informational: RT-1 builds its own encoder
            backbone_options=dict(options),
            action_space="language_table",
            num_bins=num_bins,
            bounds="stats",
            history=5,  # 6 frames, as RT-1
        ),
        data=DataConfig(weights={"robot": 1.0}),
        optim=OptimConfig(steps=steps, batch_size=batch_size, lr=lr, warmup_steps=50),
        precision="auto",
        log_every=10,
        eval_every=200,
        save_every=200,
    )


@register_preset("rt1-tabletop")
def rt1_tabletop() -> TrainConfig:
    """RT-1 baseline on tabletop robot data only: FiLM-EfficientNet-Lite0 + TokenLearner +
    Transformer, 6 frames at 128 px, sized for 2 CPU cores; meant to ship as ``rt2:rt1``.

    Command: ``rt2 collect --suite seen --episodes 3000 --noise 0.2 --seed 200000 --out
    data/seen3k && rt2 train --preset rt1-tabletop --data data/seen3k --out runs/rt1``
    (``--resume`` continues); then ``rt2 eval --policy runs/rt1 --suite
    seen,unseen_objects,unseen_backgrounds,unseen_environments,emergent``.
    Sizes: the stride-16 map (block 10 of EfficientNet-Lite0, 8 x 8 cells at 128 px, near the
    paper's 9 x 9), FiLM in blocks 4-10 (the stem and blocks 0-3 frozen), TokenLearner to 8
    tokens per frame, Transformer 8 layers of width 256, 8 heads; every frame's action is
    supervised (RT-1's loss over all time steps). Bins: 21 per axis, the tiny VLA's and
    rt2-mini's discretisation (RT-2's Language-Table "X Y" with X, Y in -10..+10), so all share
    one action vocabulary; the paper's 256 (``model.num_bins=256``) put the noisy expert's
    actions close to uniform over bins (marginal entropy 5.4 of 5.5 nats).
    Proxy (400 steps of 16, 512 held-out frames of 40 episodes; notes/rt1.md): current-frame
    loss 2.975 / bin accuracy 8.2% with the last frame supervised, 2.904 / 9.6% with all frames,
    2.934 / 9.6% at lr 1e-3 (ln 21 = 3.04).
    Runtime: 4,830 s on 2 CPU cores (AMD EPYC, 15-18 samples/s), 5,000 steps of 16 and five
    50-episode `seen` rollouts of ~18 s (the learning curve in ``metrics.jsonl``).
    Expected: measured (stage 1 of ``rt2:rt1-wip``; stage 2 is ``rt1-tabletop-12k``): held-out
    current-frame loss 2.53, bin accuracy 21%; rollouts 14 / 8 / 36 / 22 / 38% at steps 1k-5k;
    `rt2 eval --episodes 200` (seed 0): seen 27.0% [21.3, 33.5], unseen objects 28.0%,
    backgrounds 16.0%, environments 15.0%, emergent 11.5% (random 1.5 / 1.0 / 2.0 / 3.0 / 0.0%).
    """
    config = _rt1(
        steps=5000, batch_size=16, num_bins=21, lr=3e-4, d_model=256, num_layers=8, num_heads=8,
        ff_dim=1024, frozen_blocks=4, dropout=0.0, feature_norm=True, feature_stride=16,
    )  # fmt: skip
    return replace(
        config,
        data=replace(config.data, eval_episodes=40, eval_samples=512),
        eval_every=500,
        save_every=250,
        rollout_every=1000,
        rollout_episodes=50,
    )


@register_preset("rt1-tabletop-12k")
def rt1_tabletop_12k() -> TrainConfig:
    """Stage 2 of the shipped RT-1 (``rt2:rt1-wip``): ``rt1-tabletop`` continued on 12k episodes.

    The stage-1 weights, four times the episodes and a fresh cosine schedule (warm-up included).

    Command: ``rt2 collect --suite seen --episodes 12000 --noise 0.2 --seed 200000 --out
    data/seen12k && rt2 train --preset rt1-tabletop-12k --data data/seen12k --out runs/rt1-12k``
    (starts from ``runs/rt1``, the ``rt1-tabletop`` run; ``model.init=DIR`` overrides). The
    12,000 episodes (191,077 frames) hold the 3,000 of stage 1 as their first quarter.
    Runtime: 4,675 s on 2 CPU cores (Xeon with AMX, bf16, 14-15 samples/s), 4,000 steps of 16
    (64,000 robot samples; 144,000 with stage 1) and eight 50-episode `seen` rollouts of ~15 s.
    Expected: measured, shipped as ``rt2:rt1-wip``: held-out current-frame loss 2.16 (stage 1
    ended at 2.53), bin accuracy 31%; rollouts 42 / 32 / 54 / 48 / 50 / 54 / 64 / 66% every 500
    steps; `rt2 eval --episodes 200` (seed 0): seen 54.5% [47.6, 61.3], unseen objects 43.5%,
    backgrounds 37.0%, environments 47.0%, emergent 34.0% (random 1.5 / 1.0 / 2.0 / 3.0 / 0.0%).
    """
    config = rt1_tabletop()
    return replace(
        config,
        model=replace(config.model, init="runs/rt1"),
        optim=replace(config.optim, steps=4000),
        eval_every=250,
        rollout_every=500,
    )


@register_preset("rt1-paper")
def rt1_paper() -> TrainConfig:
    """RT-1 at the paper's Transformer size (8 layers, width 512, 8 heads; ~17M of ~23M params),
    every MBConv block FiLM-conditioned and fine-tuned; for machines with a GPU or many cores.

    Command: ``rt2 train --preset rt1-paper --data data/seen --out runs/rt1-paper``.
    Runtime: hours on 2 CPU cores (~5 samples/s); minutes on a GPU (20000 steps of 64 samples).
    Expected: higher `seen` success than rt1-tabletop; still weak on unseen/emergent suites.
    """
    return _rt1(steps=20000, batch_size=64, d_model=512, num_layers=8, num_heads=8, ff_dim=1024)
