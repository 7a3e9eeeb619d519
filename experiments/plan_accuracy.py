"""How well does a plan-writing VLA find the arm, the named block and the goal?

    .venv/bin/python experiments/plan_accuracy.py --policy rt2:tiny-vla [--frames 160]

Collects (once) 40 held-out `seen` episodes (seeds from 900000, noise 0.2, plan state recorded),
lets the checkpoint write its own plan for ``--frames`` random frames of them, and prints how
often each plan coordinate pair lands within 0 / 1 / 2 cells of the truth on the 32 x 32 grid,
and how often the action that follows is within one bin of the expert's on both axes.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from rt2.data.collect import CollectConfig, collect
from rt2.data.robot import load_robot_sources
from rt2.training.checkpoint import latest_checkpoint, read_json
from rt2.training.config import TrainConfig
from rt2.training.factory import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--policy", required=True, help="checkpoint, run directory or rt2:NAME")
    ap.add_argument("--frames", type=int, default=160)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "rt2-heldout40")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ckpt = latest_checkpoint(args.policy)
    if ckpt is None:
        raise SystemExit(f"--policy {args.policy}: no checkpoint there")
    fmt = TrainConfig.from_dict(read_json(ckpt, "config.json")).data.plan_format()
    if fmt is None:
        raise SystemExit(
            f"--policy {args.policy} was not trained to write plans (data.plan_bins=0)"
        )
    if not (args.data / "meta" / "info.json").exists():
        collect(CollectConfig(out=args.data, suite="seen", episodes=40, noise=0.2, seed=900_000))
    src, _ = load_robot_sources(args.data, 0, plan=fmt)
    model = load_model(ckpt)
    model.precision = "bfloat16"
    idx = np.random.default_rng(0).choice(len(src), size=min(args.frames, len(src)), replace=False)
    errors, action_ok = [], []
    for k in range(0, len(idx), 32):
        samples = [src[int(i)] for i in idx[k : k + 32]]
        res = model.act_batch(
            [s.image for s in samples], [s.instruction for s in samples], cot=True
        )
        truth = model.action_tokenizer.encode(np.stack([s.action for s in samples]))  # (B, D)
        action_ok.append((np.abs(res.bins - truth) <= 1).all(1))
        for plan, i in zip(res.plans, idx[k : k + 32], strict=True):
            got = fmt.parse(plan or "")
            true = fmt.cells(src.plan_states[int(i)])
            errors.append(
                np.full(fmt.dim, 99)
                if got is None
                else np.abs(fmt.cells(np.clip(got, -1, 1)) - true)
            )
    err = np.array(errors)  # (N, 2K) cell errors
    print(f"{args.policy}: {len(idx)} held-out frames, plans parsed {np.mean(err.max(1) < 99):.0%}")
    print("| plan part | exact cell | within 1 cell | within 2 cells |\n|---|---|---|---|")
    for j, name in enumerate(fmt.labels):
        e = err[:, 2 * j : 2 * j + 2].max(1)
        print(f"| {name} | {np.mean(e == 0):.0%} | {np.mean(e <= 1):.0%} | {np.mean(e <= 2):.0%} |")
    print(
        f"\naction within one bin of the expert's on every axis: {np.concatenate(action_ok).mean():.0%}"
    )


if __name__ == "__main__":
    main()
