"""``rt2 collect``: scripted-expert demonstrations -> a LeRobot v3.0 dataset (resumable)."""

from __future__ import annotations

import argparse

HELP = "Collect scripted-expert demonstrations into a LeRobot v3.0 dataset (resumable)."

ENVS = {"tabletop": "rt2/Tabletop-v0", "kitchen": "rt2/Kitchen-v0"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="tabletop", choices=sorted(ENVS), help="simulator")
    parser.add_argument("--suite", default="seen", help="task suite to sample tasks from")
    parser.add_argument(
        "--episodes", type=int, required=True, help="episodes the dataset should hold"
    )
    parser.add_argument("--out", required=True, help="dataset directory (re-run to resume)")
    parser.add_argument("--noise", type=float, default=0.0, help="expert action noise in [0, 1]")
    parser.add_argument(
        "--detour",
        type=float,
        default=0.0,
        help="share of episodes [0, 1] that first head for another object (labels stay the expert's)",
    )
    parser.add_argument("--seed", type=int, default=0, help="episode k uses seed SEED + k")
    parser.add_argument("--image-size", type=int, default=128, help="square observation size (px)")
    parser.add_argument(
        "--max-steps", type=int, default=None, help="episode step limit (env default)"
    )
    parser.add_argument(
        "--only-successful", action="store_true", help="keep only successful episodes"
    )
    parser.add_argument(
        "--terminate-action", action="store_true", help="add the terminate action dim"
    )
    parser.add_argument(
        "--tasks", default=None, help="user task file (YAML/JSON) instead of a suite"
    )
    parser.add_argument(
        "--image-format",
        default="image",
        choices=("image", "video"),
        help="PNG images in parquet (lossless, default) or H.264 mp4 videos",
    )
    parser.add_argument(
        "--episodes-per-file", type=int, default=50, help="episodes per parquet file"
    )
    parser.add_argument("--png-level", type=int, default=1, help="PNG zlib level 0-9 (0: fastest)")
    parser.add_argument("--no-progress", action="store_true", help="disable the progress bar")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from rt2.data.collect import CollectConfig, CollectStats, collect

    config = CollectConfig(
        out=args.out,
        episodes=args.episodes,
        suite=args.suite,
        env_id=ENVS[args.env],
        image_size=args.image_size,
        max_steps=args.max_steps,
        noise=args.noise,
        detour=args.detour,
        seed=args.seed,
        only_successful=args.only_successful,
        terminate_action=args.terminate_action,
        task_file=args.tasks,
        image_format=args.image_format,
        episodes_per_file=args.episodes_per_file,
        png_level=args.png_level,
    )
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]collect"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
        disable=args.no_progress,
    )
    task = None

    def on_episode(stats: CollectStats, kept: bool) -> None:
        rate = stats.successes / max(stats.attempts, 1)
        status = f"success {rate:.0%} | {stats.steps} steps"
        progress.update(task, completed=stats.written, status=status)

    with progress:
        task = progress.add_task("collect", total=config.episodes, status="starting")
        stats = collect(config, on_episode=on_episode)
        progress.update(task, completed=stats.written)
    secs = stats.seconds
    console.print(
        f"{config.out}: {stats.written}/{config.episodes} episodes ({stats.new_episodes} new, "
        f"{stats.successes}/{stats.attempts} attempts successful), {stats.steps} steps at "
        f"{stats.steps_per_second:.0f} steps/s (env {secs['env']:.1f}s, expert {secs['expert']:.1f}s, "
        f"writer {secs['writer']:.1f}s of {secs['total']:.1f}s)"
    )
    if stats.interrupted:
        console.print(
            "interrupted: complete episodes were saved; re-run the same command to resume"
        )
        return 130
    return 0 if stats.written >= config.episodes else 1
