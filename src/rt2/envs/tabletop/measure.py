"""Quick success tables for the tabletop suites (expert or random policy), and throughput.

``python -m rt2.envs.tabletop.measure --episodes 200`` prints, per suite, success per group x family for
the scripted expert and a uniform random policy, plus env steps/s.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

import numpy as np

from rt2.envs.tabletop.env import TabletopEnv
from rt2.envs.tabletop.expert import TabletopExpert
from rt2.envs.tabletop.suites import list_suites


def run_episodes(
    suite: str,
    episodes: int,
    policy: str = "expert",
    seed: int = 0,
    noise: float = 0.0,
    **env_kwargs: Any,
) -> tuple[list[dict[str, Any]], float]:
    """Roll out ``episodes`` episodes; returns (final infos, env steps per second)."""
    if policy not in ("expert", "random"):
        raise ValueError(f"policy: expected 'expert' or 'random', got {policy!r}")
    env = TabletopEnv(suite=suite, **env_kwargs)
    env.action_space.seed(seed)
    expert = TabletopExpert(noise=noise, seed=seed)
    infos, steps, t0 = [], 0, time.perf_counter()
    for i in range(episodes):
        _, info = env.reset(seed=seed * 100_003 + i)
        expert.reset()
        done = False
        while not done:
            action = expert.act(env) if policy == "expert" else env.action_space.sample()
            _, _, terminated, truncated, info = env.step(action)
            steps += 1
            done = terminated or truncated
        infos.append(info)
    return infos, steps / (time.perf_counter() - t0)


def success_table(infos: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, int]]:
    """(split_group, task_family) -> (success rate, episodes), plus (group, 'all') rows."""
    acc: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for info in infos:
        acc[(info["split_group"], info["task_family"])].append(info["success"])
        acc[(info["split_group"], "all")].append(info["success"])
        acc[("all", "all")].append(info["success"])
    return {k: (float(np.mean(v)), len(v)) for k, v in sorted(acc.items())}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suites", default=",".join(list_suites()))
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--policies", default="expert,random")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for policy in args.policies.split(","):
        print(f"\n### {policy} policy ({args.episodes} episodes per suite, seed {args.seed})\n")
        print("| suite | group | family | success | n |\n|---|---|---|---|---|")
        for suite in args.suites.split(","):
            infos, sps = run_episodes(suite, args.episodes, policy, args.seed)
            for (group, fam), (rate, n) in success_table(infos).items():
                print(f"| {suite} | {group} | {fam} | {100 * rate:.1f}% | {n} |")
            print(f"| {suite} | | steps/s | {sps:.0f} | |")


if __name__ == "__main__":
    main()
