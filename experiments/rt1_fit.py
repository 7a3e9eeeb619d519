"""How well does an RT-1 checkpoint fit the expert's current-frame action, on training episodes
against fresh ones? Memorisation shows as a gap; wrong targets as large direction errors.

    .venv/bin/python experiments/rt1_fit.py CKPT TRAIN_DATA FRESH_DATA [--frames 1500]

TRAIN_DATA: episodes the checkpoint trained on (e.g. `rt2 collect --suite seen --episodes 200
--noise 0.2 --seed 200000`, the first 200 of every RT-1 dataset); FRESH_DATA: the same with
another seed (300000). Prints JSON: per-axis bin accuracy, within one bin, mean bins off, the
angle between the predicted and the expert's (2-D) action, and per task family.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from rt2.baselines.rt1.model import RT1, stack_frames
from rt2.data.reader import EpisodeDataset
from rt2.data.robot import load_robot_sources
from rt2.policies import load_policy


def families(root: str) -> list[str]:
    """Task family of every episode, by episode index (``meta/episodes``, via the reader)."""
    return [str(e.extra.get("task_family", "")) for e in EpisodeDataset(root).episodes]


def fit(model: RT1, root: str, frames: int, batch: int = 64) -> dict:
    src, _ = load_robot_sources(root, eval_episodes=0, history=model.config.frames - 1)
    family = families(root)
    idx = np.random.default_rng(0).permutation(len(src))[:frames]
    errs, angles, fams = [], [], []
    for s in range(0, len(idx), batch):
        samples = [src[int(i)] for i in idx[s : s + batch]]
        stacked = np.stack([stack_frames(x.image, x.history, model.config.frames) for x in samples])
        res = model.act_frames(stacked, [x.instruction for x in samples])
        label = np.stack([x.action for x in samples])  # (B, D)
        errs.append(np.abs(res.bins - model.action_tokenizer.encode(label)))  # (B, D) bins off
        a, b = res.actions, label
        cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-9)
        angles.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))  # (B,)
        fams += [family[src.episode_of[int(i)]] for i in idx[s : s + batch]]
    e, ang = np.concatenate(errs), np.concatenate(angles)
    by_family = {}
    for f in sorted(set(fams)):
        m = np.array([x == f for x in fams])
        by_family[f] = {"frames": int(m.sum()), "within1": float((e[m] <= 1).all(-1).mean()),
                        "angle_gt45": float((ang[m] > 45).mean())}  # fmt: skip
    return {
        "frames": len(idx),
        "bin_acc": float((e == 0).mean()),
        "within1": float((e <= 1).mean()),
        "mean_bins_off": float(e.mean()),
        "angle_median": float(np.median(ang)),
        "angle_gt45": float((ang > 45).mean()),
        "angle_gt90": float((ang > 90).mean()),
        "by_family": by_family,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("train_data")
    ap.add_argument("fresh_data")
    ap.add_argument("--frames", type=int, default=1500)
    args = ap.parse_args()
    policy = load_policy(args.checkpoint)
    model = getattr(policy, "model", None)
    if not isinstance(model, RT1):
        raise SystemExit(f"{args.checkpoint}: not an RT-1 checkpoint")
    out = {k: fit(model, d, args.frames) for k, d in (("train", args.train_data),
                                                      ("fresh", args.fresh_data))}  # fmt: skip
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
