"""Collection throughput: env steps/s of `rt2 collect` with rendering, and where the time goes.

    .venv/bin/python benchmarks/bench_collect.py [--episodes 200] [--image-size 128]

Runs (1) the bare env stepped by the scripted expert (render included, no dataset) and
(2) the full collector writing a LeRobot v3 dataset (PNG encoding in a background thread),
and prints steps/s for both plus the split between env, expert and writer time.
Target from issue 3: >= 1,000 env steps/s with rendering on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def bare_env(episodes: int, image_size: int, suite: str, seed: int) -> tuple[int, float, float]:
    """Steps, env seconds and expert seconds for expert rollouts without writing."""
    from rt2.data.collect import CollectConfig

    cfg = CollectConfig(out=Path("unused"), episodes=1, suite=suite, image_size=image_size)
    env = cfg.make_env()
    steps, t_env, t_exp = 0, 0.0, 0.0
    for k in range(episodes):
        expert = cfg.make_expert(seed + k)
        t0 = time.perf_counter()
        env.reset(seed=seed + k)
        t_env += time.perf_counter() - t0
        done = False
        while not done:
            t0 = time.perf_counter()
            a = np.asarray(expert.act(env), dtype=np.float32)
            t1 = time.perf_counter()
            _, _, term, trunc, _ = env.step(a)
            t_env += time.perf_counter() - t1
            t_exp += t1 - t0
            steps += 1
            done = term or trunc
    env.close()
    return steps, t_env, t_exp


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--suite", default="seen")
    parser.add_argument("--image-format", default="image", choices=("image", "video"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png-level", type=int, default=1)
    args = parser.parse_args()

    from rt2.data import EpisodeDataset
    from rt2.data.collect import CollectConfig, collect

    steps, t_env, t_exp = bare_env(args.episodes, args.image_size, args.suite, args.seed)
    print(
        f"bare env + expert: {steps} steps, {steps / (t_env + t_exp):,.0f} steps/s "
        f"(env incl. render {1e3 * t_env / steps:.3f} ms/step, expert {1e3 * t_exp / steps:.3f} ms/step)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cfg = CollectConfig(
            out=Path(tmp) / "ds",
            episodes=args.episodes,
            suite=args.suite,
            image_size=args.image_size,
            seed=args.seed,
            image_format=args.image_format,
            png_level=args.png_level,
        )
        stats = collect(cfg)
        s = stats.seconds
        other = s["total"] - s["env"] - s["expert"] - s["writer"]
        print(
            f"collect ({args.image_format}, png level {args.png_level}): {stats.steps} steps in {s['total']:.2f}s = "
            f"{stats.steps_per_second:,.0f} steps/s | per step: env {1e3 * s['env'] / stats.steps:.3f} ms, "
            f"expert {1e3 * s['expert'] / stats.steps:.3f} ms, writer (flush + waiting on PNG thread) "
            f"{1e3 * s['writer'] / stats.steps:.3f} ms, other {1e3 * other / stats.steps:.3f} ms"
        )
        size = sum(p.stat().st_size for p in (Path(tmp) / "ds").rglob("*") if p.is_file())
        t0 = time.perf_counter()
        ds = EpisodeDataset(Path(tmp) / "ds")
        images = ds.images(slice(0, ds.num_frames))
        t_read = time.perf_counter() - t0
        print(
            f"dataset: {ds.num_episodes} episodes, {ds.num_frames} frames, {size / 1e6:.1f} MB "
            f"({size / ds.num_frames / 1e3:.1f} kB/frame); read + decode all frames "
            f"{images.shape} in {t_read:.2f}s ({ds.num_frames / t_read:,.0f} frames/s)"
        )
        print(f"success rate of collected episodes: {stats.successes}/{stats.attempts}")


if __name__ == "__main__":
    main()
