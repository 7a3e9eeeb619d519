"""Kitchen benchmark: env steps/s at 128 px, and expert / random success per skill and split.

OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kitchen.py              # steps/s only
OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kitchen.py --episodes 50 --random 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rt2.envs.kitchen import SKILLS, KitchenEnv, KitchenExpert

SUITES = ("seen", "unseen_objects", "unseen_backgrounds", "unseen_environments")


def steps_per_second(image_size: int, steps: int) -> tuple[float, float]:
    """(env steps/s without resets, with one reset every 25 steps) under random actions."""
    env = KitchenEnv(image_size=image_size)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    t0 = time.perf_counter()
    for _ in range(steps):
        a = rng.uniform(env.action_spec.low, env.action_spec.high)
        a[0] = 0.0
        env.step(a)
    pure = steps / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(steps):
        if i % 25 == 0:
            env.reset(seed=i)
        a = rng.uniform(env.action_spec.low, env.action_spec.high)
        a[0] = 0.0
        env.step(a)
    return pure, steps / (time.perf_counter() - t0)


def success(suite: str, skill: str, episodes: int, policy: str) -> float:
    """Success rate of ``policy`` ('expert' or 'random') on ``episodes`` episodes."""
    env = KitchenEnv(suite=suite, image_size=64)
    wins = 0
    for s in range(episodes):
        env.reset(seed=10_000 + s, options={"skill": skill})
        expert, rng = KitchenExpert(0.0, s), np.random.default_rng(s)
        done, info = False, {}
        while not done:
            if policy == "expert":
                a = expert.act(env)
            else:
                a = rng.uniform(env.action_spec.low, env.action_spec.high)
                a[0] = 0.0
            _, _, te, tr, info = env.step(a)
            done = te or tr
        wins += bool(info["success"])
    env.close()
    return wins / episodes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--episodes", type=int, default=0, help="expert episodes per skill and split")
    p.add_argument("--random", type=int, default=0, help="random episodes per skill and split")
    args = p.parse_args()
    pure, with_resets = steps_per_second(args.image_size, args.steps)
    print(f"{args.image_size} px: {pure:.0f} env steps/s ({with_resets:.0f} with a reset every 25)")
    for policy, n in (("expert", args.episodes), ("random", args.random)):
        if n <= 0:
            continue
        print(f"\n{policy} success ({n} episodes per cell)\n")
        print("| skill | " + " | ".join(SUITES) + " |")
        print("|---|" + "---|" * len(SUITES))
        for skill in SKILLS:
            rates = [success(s, skill, n, policy) for s in SUITES]
            print(f"| {skill} | " + " | ".join(f"{100 * r:.0f}%" for r in rates) + " |", flush=True)


if __name__ == "__main__":
    main()
