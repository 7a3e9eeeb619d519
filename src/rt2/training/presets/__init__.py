"""Training presets: named, documented, reproducible configs (seeded; the resolved config is
saved with every checkpoint). Each docstring gives purpose, command, runtime and expected metric.

The tiny presets reproduce RT-2's Table-6 ablation in miniature: a "pretrained VLM" is first made
by training the tiny backbone on the synthetic web corpus alone (``tiny-pretrain``), then it is
fine-tuned on robot data alone (``tiny-finetune``) or co-fine-tuned on robot + web data
(``tiny-cofinetune``), against a model trained on robot data from scratch (``tiny-scratch``).

The presets live by family (``tiny``, ``rt1``, ``rt2_mini``) and register themselves in the
registry (``registry``) on import; this package re-exports every public name.
"""

from __future__ import annotations

from rt2.training.presets.registry import PRESETS, describe_presets, get_preset, register_preset
from rt2.training.presets.rt1 import rt1_paper, rt1_tabletop, rt1_tabletop_12k
from rt2.training.presets.rt2_mini import (
    ABLATION_ROBOT_SAMPLES,
    PLAN_CODE_V2,
    RT2_MINI_VLA_BACKBONE,
    V2_GROUNDING_WEIGHT,
    V2_IMAGE_SIDE,
    V2_TRAIN_LAYERS,
    VLM_WEB,
    rt2_mini,
    rt2_mini_align,
    rt2_mini_cofinetune,
    rt2_mini_finetune,
    rt2_mini_ft,
    rt2_mini_scratch,
    rt2_mini_v2,
    rt2_mini_vlm,
)
from rt2.training.presets.tiny import (
    DEMO_STEPS,
    ECOT_WEB,
    TINY_BACKBONE,
    TINY_LR,
    tiny_cofinetune,
    tiny_demo,
    tiny_ecot,
    tiny_finetune,
    tiny_pretrain,
    tiny_scratch,
)

__all__ = [
    "ABLATION_ROBOT_SAMPLES",
    "DEMO_STEPS",
    "ECOT_WEB",
    "PLAN_CODE_V2",
    "PRESETS",
    "RT2_MINI_VLA_BACKBONE",
    "TINY_BACKBONE",
    "TINY_LR",
    "V2_GROUNDING_WEIGHT",
    "V2_IMAGE_SIDE",
    "V2_TRAIN_LAYERS",
    "VLM_WEB",
    "describe_presets",
    "get_preset",
    "register_preset",
    "rt1_paper",
    "rt1_tabletop",
    "rt1_tabletop_12k",
    "rt2_mini",
    "rt2_mini_align",
    "rt2_mini_cofinetune",
    "rt2_mini_finetune",
    "rt2_mini_ft",
    "rt2_mini_scratch",
    "rt2_mini_v2",
    "rt2_mini_vlm",
    "tiny_cofinetune",
    "tiny_demo",
    "tiny_ecot",
    "tiny_finetune",
    "tiny_pretrain",
    "tiny_scratch",
]
