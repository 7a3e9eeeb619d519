"""How hard are the tabletop actions to learn, given perfect perception?

    .venv/bin/python experiments/learnability.py [--episodes 3000] [--steps 500,1000,4000]

Trains a small MLP on *privileged* state (effector, mover and the expert's push target, in table
metres) to predict the expert's clean actions as 21 bins per axis (the tiny presets' code book),
then runs it closed loop on the `seen` suite. This is an upper bound for any pixel policy trained
with as many samples: a VLA additionally has to find the effector, ground the named mover and
infer the target from pixels and words. Prints a table of steps -> held-out cross-entropy, bin
accuracy and closed-loop success, next to the label marginal entropy (what a policy that ignores
its inputs scores). ``--plan-noise 1,2,3`` then re-runs the final MLP with the mover and target
moved by up to that many cells of the plans' 32 x 32 grid, independently at every step: how
exact a VLA's grounded plan must be for the actions that follow from it to succeed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

NUM_BINS = 21
BOUND = 0.045  # q01/q99 of the expert's clean actions (m per step)
PLAN_GRID = 32  # cells per axis of the plans (data.plan_bins)


def _state(env, expert) -> np.ndarray:
    u = env.unwrapped
    pos = u.positions()
    target = expert._target(u, pos)
    return np.concatenate([u.world.effector_pos(), pos[u.task.mover], target]) * 5.0  # ~[-1, 1]


def _bins(actions: np.ndarray) -> np.ndarray:
    return np.clip(((actions + BOUND) / (2 * BOUND) * NUM_BINS).astype(int), 0, NUM_BINS - 1)


def collect(episodes: int, seed: int, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 6) privileged states and (N, 2) bins of the expert's clean (DART) labels."""
    from rt2.data.collect import CollectConfig

    cfg = CollectConfig(out="unused", episodes=1, noise=noise)
    env = cfg.make_env()
    states, labels = [], []
    for k in range(episodes):
        env.reset(seed=seed + k)
        expert = cfg.make_expert(seed + k)
        while True:
            action = expert.act(env)
            states.append(_state(env, expert))
            labels.append(expert.clean_action)
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
    x = torch.tensor(np.array(states), dtype=torch.float32)
    return x, torch.from_numpy(_bins(np.array(labels)))


def closed_loop(net: nn.Module, episodes: int, seed: int, noise_cells: int = 0) -> float:
    """Success rate of the MLP acting on privileged state over `seen` episodes; with
    ``noise_cells``, mover and target are each off by up to that many plan-grid cells per axis."""
    from rt2.data.collect import CollectConfig
    from rt2.envs.tabletop.expert import TabletopExpert

    env = CollectConfig(out="unused", episodes=1).make_env()
    oracle = TabletopExpert()  # only reads the plan (push target); never acts
    rng = np.random.default_rng(seed)
    wins = 0
    for k in range(episodes):
        env.reset(seed=seed + k)
        oracle.reset()
        info: dict = {}
        while True:
            oracle.act(env)
            state = _state(env, oracle)  # (6,) table metres x 5
            if noise_cells:
                cell = 5.0 * 2 * np.asarray(env.unwrapped.world.half) / PLAN_GRID  # (2,)
                offsets = rng.integers(-noise_cells, noise_cells + 1, size=(2, 2)) * cell
                state[2:] += offsets.reshape(-1)
            x = torch.tensor(state, dtype=torch.float32)[None]
            with torch.no_grad():
                b = net(x).view(2, NUM_BINS).argmax(-1).numpy()
            action = ((b + 0.5) / NUM_BINS * 2 * BOUND - BOUND).astype(np.float32)
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        wins += bool(info.get("success"))
    return wins / episodes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--episodes", type=int, default=3000, help="training episodes (noise 0.2)")
    p.add_argument("--steps", default="250,500,1000,4000", help="comma-separated checkpoints")
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plan-noise", default="", help="comma-separated cell offsets, e.g. 1,2,3")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    x, y = collect(args.episodes, seed=50_000 + args.seed, noise=0.2)
    held = min(3000, len(x) // 5)
    xt, yt, xv, yv = x[held:], y[held:], x[:held], y[:held]
    p_axis = [torch.bincount(yt[:, i], minlength=NUM_BINS).float() / len(yt) for i in range(2)]
    marginal = float(sum(-(q[q > 0] * q[q > 0].log()).sum() for q in p_axis) / 2)
    print(f"{len(x)} frames from {args.episodes} episodes in {time.perf_counter() - t0:.0f} s")
    print(f"label marginal entropy: {marginal:.3f} nats/axis (ln 21 = {np.log(NUM_BINS):.3f})\n")
    net = nn.Sequential(
        nn.Linear(6, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2 * NUM_BINS)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    marks = sorted(int(s) for s in args.steps.split(","))
    print(
        "| steps | samples | held-out CE (nats/axis) | bin acc | within 1 bin | closed-loop success |"
    )
    print("|---|---|---|---|---|---|")
    for step in range(1, marks[-1] + 1):
        idx = torch.randint(len(xt), (64,))
        loss = nn.functional.cross_entropy(net(xt[idx]).view(-1, NUM_BINS), yt[idx].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in marks:
            with torch.no_grad():
                logits = net(xv).view(-1, 2, NUM_BINS)
            ce = float(nn.functional.cross_entropy(logits.reshape(-1, NUM_BINS), yv.flatten()))
            err = (logits.argmax(-1) - yv).abs()
            success = closed_loop(net, args.eval_episodes, seed=900_000 + args.seed)
            print(
                f"| {step} | {step * 64} | {ce:.3f} | {float((err == 0).float().mean()):.3f} | "
                f"{float((err <= 1).float().mean()):.3f} | {success:.0%} |"
            )
    if args.plan_noise:
        print(
            f"\nfinal MLP ({marks[-1]} steps), mover and target off by up to k plan cells per axis:\n"
        )
        print("| k (cells of 32) | closed-loop success |\n|---|---|")
        for k in (int(v) for v in args.plan_noise.split(",")):
            success = closed_loop(net, args.eval_episodes, seed=900_000 + args.seed, noise_cells=k)
            print(f"| {k} | {success:.0%} |")


if __name__ == "__main__":
    main()
