"""Throughput of rt2/Tabletop-v0 on one core: physics only, with 128 px rendering, and videos.

Run: ``.venv/bin/python benchmarks/bench_envs.py [--steps 5000]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rt2.envs import TabletopEnv
from rt2.envs.tabletop.physics import PushWorld


def bench(steps: int, image_size: int, seed: int = 0) -> dict[str, float]:
    env = TabletopEnv(suite="seen", image_size=image_size, max_steps=50)
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-0.05, 0.05, size=(steps, 2))
    # physics only (same scenes, no drawing)
    env.reset(seed=seed)
    t0, n = time.perf_counter(), 0
    world = PushWorld(env.scene)
    for a in actions:
        world.step(a)
        env.task.success(env.positions())  # type: ignore[union-attr]
        n += 1
        if n % 50 == 0:
            world = PushWorld(env.scene)
    physics = n / (time.perf_counter() - t0)
    # full env step: physics + success + 128 px observation (+ resets every 50 steps)
    env.reset(seed=seed)
    t0 = time.perf_counter()
    for i, a in enumerate(actions):
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset(seed=seed + i)
    full = steps / (time.perf_counter() - t0)
    # render() for videos
    t0 = time.perf_counter()
    for _ in range(min(steps, 1000)):
        env.render()
    video = min(steps, 1000) / (time.perf_counter() - t0)
    # reset cost
    t0 = time.perf_counter()
    for i in range(200):
        env.reset(seed=i)
    resets = 200 / (time.perf_counter() - t0)
    return {
        "physics_steps_per_s": physics,
        "env_steps_per_s": full,
        "render_frames_per_s": video,
        "resets_per_s": resets,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--image-size", type=int, default=128)
    args = p.parse_args()
    r = bench(args.steps, args.image_size)
    print(f"physics only          : {r['physics_steps_per_s']:8.0f} steps/s")
    print(f"env.step ({args.image_size} px obs) : {r['env_steps_per_s']:8.0f} steps/s")
    print(f"render() 256 px       : {r['render_frames_per_s']:8.0f} frames/s")
    print(f"reset()               : {r['resets_per_s']:8.0f} resets/s")


if __name__ == "__main__":
    main()
