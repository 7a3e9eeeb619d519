"""Training samples/s of a preset and of variants of it, in one run (notes/rt2-mini-v2.md).

    python benchmarks/preset_levers.py rt2-mini rt2-mini+letters rt2-mini-v2+digits rt2-mini-v2 \
        rt2-mini-v2+noplan rt2-mini-v2+layers8 rt2-mini-v2+batch32 --repeats 2

A variant is ``PRESET+LEVER``: ``digits`` / ``letters`` (the plan's cell code), ``noplan`` (no
plan), ``layersN`` (``backbone_options.train_layers=N``), ``batchN`` (batch size), ``sincos`` /
``film`` (rt2-mini's ``pos_init=sincos`` / ``film=true``; ``film`` implies ``sincos``),
``noground`` (no FiLM, no grounding head: v2's image side before sessions 15-17). Each row is
timed by :func:`rt2.bench.bench_preset_training` (the preset's batch and sample mix, bf16);
ratios are to the first row's mean.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

from rt2.bench import bench_preset_training
from rt2.training.config import TrainConfig
from rt2.training.presets import get_preset


def variant(name: str) -> TrainConfig:
    """``PRESET+LEVER`` -> the preset's config with the lever applied."""
    base, _, lever = name.partition("+")
    c = get_preset(base)
    if lever in ("digits", "letters"):
        return replace(c, data=replace(c.data, plan_code=lever))
    if lever == "noplan":
        return replace(c, data=replace(c.data, plan_bins=0))
    if m := re.fullmatch(r"layers(\d+)", lever):
        options = {**c.model.backbone_options, "train_layers": int(m.group(1))}
        return replace(c, model=replace(c.model, backbone_options=options))
    if m := re.fullmatch(r"batch(\d+)", lever):
        return replace(c, optim=replace(c.optim, batch_size=int(m.group(1))))
    if lever in ("sincos", "film"):
        extra = {"pos_init": "sincos"} | ({"film": True} if lever == "film" else {})
        options = {**c.model.backbone_options, **extra}
        return replace(c, model=replace(c.model, backbone_options=options))
    if lever == "noground":  # session 14's v2 image side: no FiLM, no grounding head
        options = {**c.model.backbone_options, "film": False, "ground": False}
        model = replace(c.model, backbone_options=options, grounding_weight=0.0, plan_source="lm")
        return replace(c, model=model)
    if lever:
        raise ValueError(f"unknown lever {lever!r} in {name!r}")
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {v: [] for v in args.variants}
    tokens: dict[str, float] = {}
    for _ in range(args.repeats):
        for v in args.variants:
            row = bench_preset_training(variant(v))
            runs[v].append(row["samples_per_s"])
            tokens[v] = row["tokens_per_sample"]
    base = sum(runs[args.variants[0]]) / args.repeats
    print("| variant | tokens per sample | samples/s | vs first |\n|---|---|---|---|")
    for v, values in runs.items():
        mean = sum(values) / len(values)
        shown = " / ".join(f"{x:.2f}" for x in values)
        print(f"| `{v}` | {tokens[v]:.0f} | {shown} | {mean / base:.2f}x |")


if __name__ == "__main__":
    main()
