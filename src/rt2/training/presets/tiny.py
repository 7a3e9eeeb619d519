"""The tiny presets: the tiny VLA, its plan-writing (ECoT) demo and the Table-6 ablation in
miniature (pretrain, fine-tune, co-fine-tune, scratch)."""

from __future__ import annotations

from dataclasses import replace

from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.presets.registry import register_preset

# The tiny VLA sees through a frozen ImageNet EfficientNet-Lite0 trunk (stride 16, every patch
# kept): with it the VLA reads where things are after a few hundred steps, where the from-scratch
# conv stem needs thousands; and it trains at 3e-4, because at 1e-3 it never learned to point
# (both measured with experiments/pointing.py, notes/grounding.md). Runtimes are one torch thread
# on a 2-core machine shared with a second training run (~28 samples/s).
TINY_BACKBONE: dict[str, object] = {"stem": "efficientnet-lite0", "pool": 1}
TINY_LR = 3e-4
DEMO_STEPS = 300


def _tiny(
    weights: dict[str, float], steps: int, init: str | None = None, bounds: str = "stats"
) -> TrainConfig:
    return TrainConfig(
        # 21 bins per axis: RT-2's Language-Table actions are "X Y" with X, Y in -10..+10
        model=ModelConfig(
            backbone="tiny",
            backbone_options=dict(TINY_BACKBONE),
            action_space="language_table",
            num_bins=21,
            mapping="reserved",
            init=init,
            bounds=bounds,
        ),
        data=DataConfig(weights=weights, web_size=20000),
        optim=OptimConfig(steps=steps, batch_size=32, lr=TINY_LR, warmup_steps=100),
        precision="auto",
        log_every=20,
        eval_every=250,
        save_every=500,
    )


#: The web mix of the plan-writing presets: pointing-heavy, for grounding.
ECOT_WEB = {"caption": 0.1, "scene_vqa": 0.2, "object_vqa": 0.1, "facts": 0.1, "math": 0.05}
ECOT_WEB |= {"translation": 0.05, "pointing": 0.4}


def _ecot(weights: dict[str, float], steps: int, init: str | None = None) -> TrainConfig:
    cfg = _tiny(weights, steps, init)
    return replace(cfg, data=replace(cfg.data, plan_bins=32, web_weights=dict(ECOT_WEB)))


@register_preset("tiny-demo")
def tiny_demo() -> TrainConfig:
    """Co-fine-tune the shipped tiny VLA (``rt2:tiny-vla``) on fresh demos + web data, 50/50.

    The demo's training stage. ``rt2:tiny-vla`` already writes grounded plans and acts (its
    recipe: ``src/rt2/weights/tiny-vla/README.md``); this adapts it to newly collected data at a
    low learning rate, keeping its action vocabulary.
    Command: ``rt2 collect --suite seen --episodes 800 --noise 0.2 --out data/seen && rt2 train
    --preset tiny-demo --data data/seen --out runs/tiny-demo`` (``rt2 demo`` runs all of it).
    Runtime: about 3 minutes on 2 CPU cores (300 steps of 32 samples, bf16; measured 179 s).
    Expected: measured after 800 fresh episodes, `seen` 14% [8.5, 22.1] over 100 episodes
    (rt2:tiny-vla itself: 16% [10.1, 24.4]; random 1% [0.2, 5.4]); held-out robot loss 0.27.
    """
    cfg = _ecot({"robot": 0.5, "web": 0.5}, steps=DEMO_STEPS, init="rt2:tiny-vla")
    return replace(cfg, optim=replace(cfg.optim, lr=1e-4, warmup_steps=20), eval_every=DEMO_STEPS)


@register_preset("tiny-ecot")
def tiny_ecot() -> TrainConfig:
    """Co-fine-tune the tiny VLA to write a grounded plan before each action (ECoT).

    Answers are "Plan: arm 11 17, block 13 17, goal 27 5. Action: ..." on a 32x32 grid; pointing
    web items ("point to the apple." -> "12 7") teach grounding for every object. The first stage
    of ``rt2:tiny-vla``.

    Command: ``rt2 collect --suite seen --episodes 3000 --noise 0.2 --seed 200000 --out
    data/seen3k && rt2 train --preset tiny-ecot --data data/seen3k --out runs/tiny-ecot``.
    Runtime: about 60 minutes (3000 steps of 32 samples, bf16; measured 59 min).
    Expected: measured on 160 held-out frames, arm / block / goal within one cell 36 / 19 / 3% at
    1000 steps and 92 / 27 / 23% at 3000 (chance ~1%); `seen` 1/50 at 3000 (notes/grounding.md).
    """
    return _ecot({"robot": 0.6, "web": 0.4}, steps=3000)


@register_preset("tiny-scratch")
def tiny_scratch() -> TrainConfig:
    """RT-2 Table 6 "from scratch": the tiny VLA trained on robot data only, no web pretraining.

    Command: ``rt2 train --preset tiny-scratch --data data/seen --out runs/tiny-scratch``.
    Runtime: about 60 minutes (3000 steps of 32 samples, bf16).
    Expected: not measured at this budget yet; in RT-2 (Table 6) from scratch is the weakest,
    above all on unseen objects and emergent tasks.
    """
    return _tiny({"robot": 1.0}, steps=3000)


@register_preset("tiny-pretrain")
def tiny_pretrain() -> TrainConfig:
    """Stage 0: make the tiny "pretrained VLM" by training on the synthetic web corpus only.

    Command: ``rt2 train --preset tiny-pretrain --out runs/tiny-pretrain`` (no robot data).
    Runtime: about 60 minutes (3000 steps of 32 samples, bf16).
    Expected: held-out web loss well below its initial ~5.5 nats/token (measured with the
    from-scratch conv stem: 1.01 after 500 steps).
    """
    return _tiny({"web": 1.0}, steps=3000, bounds="fixed")


@register_preset("tiny-finetune")
def tiny_finetune() -> TrainConfig:
    """RT-2 Table 6 "fine-tuned": start from ``runs/tiny-pretrain``, robot data only.

    Command: ``rt2 train --preset tiny-finetune --data data/seen --out runs/tiny-finetune``
    (override the start with ``model.init=DIR``).
    Runtime: about 60 minutes (3000 steps of 32 samples, bf16).
    Expected: not measured at this budget yet; RT-2 found fine-tuning loses web answers.
    """
    return _tiny({"robot": 1.0}, steps=3000, init="runs/tiny-pretrain")


@register_preset("tiny-cofinetune")
def tiny_cofinetune() -> TrainConfig:
    """RT-2 Table 6 "co-fine-tuned": start from ``runs/tiny-pretrain``, robot + web data 50/50.

    Command: ``rt2 train --preset tiny-cofinetune --data data/seen --out runs/tiny-cofinetune``.
    Runtime: about 60 minutes (3000 steps of 32 samples, bf16).
    Expected: not measured at this budget yet; in RT-2 co-fine-tuning generalises best.
    """
    return _tiny({"robot": 0.5, "web": 0.5}, steps=3000, init="runs/tiny-pretrain")
