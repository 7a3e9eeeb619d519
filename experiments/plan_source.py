"""Does a head-planning VLA fail at reading the scene or at acting on its plan? Closed loop on
`seen`, one checkpoint, the plan written three ways:

    .venv/bin/python experiments/plan_source.py --policy rt2:rt2-mini-v2-wip [--episodes 50]
        [--sources head,oracle,jitter1,jitter2]

- ``head``: as shipped (``model.plan_source="head"``): the grounding head's reading;
- ``oracle``: the plan the scripted expert computes from the true simulator state (what the
  LM read in training);
- ``jitterK``: the oracle plan with each position moved by up to K plan cells per axis
  (uniform), the head's typical error size, on the LM's side only.

If ``oracle`` succeeds far more often than ``head``, the grounding head limits the policy; if
both are alike, the LM's reading of the plan does. Every frame also scores the head's reading
against the truth (within 1 / 2 plan cells per target), on the states the policy itself reaches
(training frames come from the noisy expert only).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from rt2.backbones.grounding import GROUND_TARGETS, read_positions
from rt2.evaluation.chunking import ChunkExecution
from rt2.evaluation.rates import wilson_interval
from rt2.evaluation.runner import EVAL_SEED, EvalConfig, run_evaluation
from rt2.observations import camera_views
from rt2.policies import load_policy
from rt2.policies.scripted import ExpertPolicy
from rt2.samples import RobotSample


class PlanSourcePolicy:
    """A head-planning VLA acting on plans from ``source``; keeps per-target head errors."""

    def __init__(self, vla_policy: Any, source: str, seed: int = 0) -> None:
        self.model = vla_policy.model
        self.fmt = self.model.head_plan
        if self.fmt is None:
            raise ValueError(
                "plan_source.py needs a checkpoint trained with model.plan_source=head"
            )
        self.source = source
        self.jitter = int(source.removeprefix("jitter")) if source.startswith("jitter") else 0
        self.expert = ExpertPolicy()
        self.rng = np.random.default_rng(seed)
        self.steps: dict[int, int] = {}  # env slot -> frames acted on in its episode
        self.first: list[bool] = []  # per scored frame: the episode's first frame?
        self.record: list[tuple[list, list, np.ndarray]] | None = None
        self.other_object: list[bool] = []  # per frame: block read on another object
        self.errors: list[np.ndarray] = []  # (B, 3) head's cell error (Chebyshev), plan order

    @property
    def action_space(self):
        return self.model.action_space

    def bind(self, envs: Sequence[Any]) -> None:
        self.expert.bind(envs)

    def reset(self) -> None:
        self.expert.reset()

    def start_episode(self, slot: int, seed: int) -> None:
        self.expert.start_episode(slot, seed)
        self.steps[slot] = 0

    def _truth(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        """(B, 3, 2) true (arm, block, goal) in table half-extents, from the expert's plan;
        keeps the other objects' positions for :attr:`others`."""
        rows, self._others = [], []
        for o in observations:
            slot = int(o.get("env_slot", 0))
            self.expert.infer(o)  # plans on the env's true state
            rows.append(self.expert._experts[slot].plan_state.reshape(3, 2))
            u = self.expert._envs[slot].unwrapped
            pos = u.positions()
            self._others.append(
                np.array([p / u.world.half for k, p in pos.items() if k != u.task.mover])
            )
        return np.stack(rows)

    @torch.no_grad()
    def infer_batch(self, observations: Sequence[dict[str, Any]]) -> np.ndarray:
        m = self.model
        bb = m.backbone
        samples = [
            RobotSample(np.asarray(camera_views(o, m.cameras)), str(o["instruction"]))
            for o in observations
        ]
        truth = self._truth(observations)  # (B, 3, 2)
        if self.record is not None:  # on-policy frames, labelled with the true plan
            self.record.append(
                ([s.image for s in samples], [s.instruction for s in samples], truth)
            )
        for o in observations:
            slot = int(o.get("env_slot", 0))
            self.first.append(self.steps.get(slot, 0) == 0)
            self.steps[slot] = self.steps.get(slot, 0) + 1
        batch = m.builder.prompts(samples)
        with m.autocast():
            x = bb.image_tokens(batch.pixels, batch.input_ids, batch.attention_mask)
            logits, xy = bb.grounding(x[:, : bb.num_image_tokens // bb.cameras])
            head = read_positions(logits, xy).float().cpu().numpy()  # (B, 3, 2)
            order = [GROUND_TARGETS.index(name) for name in self.fmt.labels]
            cells = [
                np.stack([self.fmt.cells(p[order].reshape(-1)) for p in v]) for v in (head, truth)
            ]
            self.errors.append(np.abs(cells[0] - cells[1]).reshape(-1, 3, 2).max(-1))  # (B, 3)
            cell = 2.0 / self.fmt.bins
            for p, others in zip(head[:, 1], self._others, strict=True):  # the block's reading
                near = len(others) and np.abs(others - p).max(-1).min() <= 1.5 * cell
                self.other_object.append(bool(near))
            if self.source == "head":
                pos = head
            else:
                pos = truth + self.rng.integers(-self.jitter, self.jitter + 1, truth.shape) * cell
            plans = [self.fmt.text(p[order].reshape(-1)) for p in pos]
            slot_logits = m._act_on_plans(samples, plans, x)  # (B, S, V)
        bins, _ = m.slots.read(slot_logits)  # (B, K, D)
        B, K, D = bins.shape
        chunks = m.action_tokenizer.decode(bins.reshape(B * K, D)).reshape(B, K, D)
        return chunks if K > 1 else chunks[:, 0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--policy", default="rt2:rt2-mini-v2-wip")
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--sources", default="head,oracle,jitter1,jitter2")
    ap.add_argument("--num-envs", type=int, default=10)
    ap.add_argument("--out", default=None, help="write the rows as JSON here")
    ap.add_argument("--seed", type=int, default=EVAL_SEED, help="episode i: seed + i")
    ap.add_argument("--max-steps", type=int, default=None, help="episode limit (env default)")
    ap.add_argument(
        "--execute-steps", type=int, default=None, help="actions played per call (whole chunk)"
    )
    ap.add_argument(
        "--record",
        default=None,
        help="save every frame (image, instruction, true plan) to this .npz",
    )
    args = ap.parse_args()
    base = load_policy(args.policy)
    rows = []
    for source in args.sources.split(","):
        policy = PlanSourcePolicy(base, source)
        policy.record = [] if args.record else None
        cfg = EvalConfig(
            suites=("seen",),
            episodes=args.episodes,
            seed=args.seed,
            num_envs=args.num_envs,
            max_steps=args.max_steps,
            execution=ChunkExecution(steps=args.execute_steps),
        )
        t0 = time.perf_counter()
        records = run_evaluation(cfg, policy)
        wins = sum(bool(r.success) for r in records)
        lo, hi = wilson_interval(wins, len(records))
        err = np.concatenate(policy.errors)  # (frames, 3)
        first = np.asarray(policy.first)
        row = {
            "source": source,
            "success": wins / len(records),
            "ci": [lo, hi],
            "episodes": len(records),
            "head_within1": dict(
                zip(policy.fmt.labels, (err <= 1).mean(0).round(3).tolist(), strict=True)
            ),
            "head_within2": dict(
                zip(policy.fmt.labels, (err <= 2).mean(0).round(3).tolist(), strict=True)
            ),
            "head_within1_first_frame": dict(
                zip(policy.fmt.labels, (err[first] <= 1).mean(0).round(3).tolist(), strict=True)
            ),
            "block_missed": float(np.mean(err[:, 1] > 2)),
            "block_on_another_object": float(
                np.mean(np.asarray(policy.other_object) & (err[:, 1] > 2))
            ),
            "frames": len(err),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if policy.record:
            path = args.record.replace(".npz", f"-{source}.npz")
            np.savez_compressed(
                path,
                images=np.stack([im for ims, _, _ in policy.record for im in ims]),
                instructions=np.array([t for _, ts, _ in policy.record for t in ts]),
                plans=np.concatenate([p for _, _, p in policy.record]),  # (N, 3, 2) arm/block/goal
            )
            print(f"recorded {len(err)} frames to {path}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"policy": args.policy, "config": asdict(cfg), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
