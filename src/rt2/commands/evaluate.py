"""``rt2 eval``: closed-loop evaluation of a policy on task suites -> report, plot, videos."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rt2.evaluation.distributed import Workers

HELP = (
    "Evaluate a policy (expert, blind-expert, random or a checkpoint) closed loop on task suites."
)

ENVS = {"tabletop": "rt2/Tabletop-v0", "kitchen": "rt2/Kitchen-v0"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default="tabletop", choices=sorted(ENVS), help="simulator")
    parser.add_argument(
        "--policy",
        default="expert",
        help="'expert', 'blind-expert' (the expert with a uniformly drawn mover and target: "
        "motor skill without understanding), 'random', a checkpoint path or a policy server URL "
        "(ws://HOST:PORT)",
    )
    parser.add_argument(
        "--suite",
        default=None,
        help="comma-separated suites, e.g. seen,unseen_objects,emergent (default: seen; with "
        "--tasks, the label of the task file's results)",
    )
    parser.add_argument(
        "--episodes",
        type=int,
        default=None,
        help="episodes per suite (default 50); with --data: the dataset's last N episodes "
        "(default: the checkpoint's data.eval_episodes, the ones training held out)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="offline evaluation on a LeRobot dataset (no simulator): the policy's actions on "
        "held-out episodes against the recorded ones; per-dim error, token accuracy, plots",
    )
    parser.add_argument("--out", required=True, help="report directory")
    parser.add_argument("--tasks", default=None, help="user task file (YAML/JSON)")
    parser.add_argument("--seed", type=int, default=0, help="episode i uses seed SEED + i")
    parser.add_argument("--videos", type=int, default=2, help="episodes per suite saved as GIFs")
    parser.add_argument("--num-envs", type=int, default=8, help="envs stepped in lockstep")
    parser.add_argument("--image-size", type=int, default=128, help="square observation size (px)")
    parser.add_argument(
        "--max-steps", type=int, default=None, help="episode step limit (env default)"
    )
    parser.add_argument("--noise", type=float, default=0.0, help="expert action noise")
    parser.add_argument(
        "--terminate-action", action="store_true", help="action space has terminate"
    )
    parser.add_argument(
        "--execute",
        default="open_loop",
        choices=("open_loop", "ensemble"),
        help="how a chunking policy's (K, D) chunks are played: open loop, or ACT's temporal "
        "ensembling (a model call every step)",
    )
    parser.add_argument(
        "--execute-steps",
        type=int,
        default=None,
        help="open loop: actions played per chunk (default: the whole chunk)",
    )
    add_worker_arguments(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the episodes already logged in --out (OUT/cells/SUITE.jsonl, one line per "
        "finished episode) and play only the rest; without it a rerun starts afresh",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile a VLA checkpoint for acting (rt2-mini, hf: ~1.3x faster on CPU after "
        "~1-2 min of compiling; worth it for long evaluations)",
    )
    parser.add_argument(
        "--no-blind-baseline",
        action="store_true",
        help="skip the concept-blind expert's run on the same episodes (tabletop: by default "
        "the report shows its success beside every success rate, as the ceiling of luck)",
    )
    parser.add_argument("--no-progress", action="store_true", help="disable the progress bar")


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` and ``--ray [ADDRESS]`` (shared with ``rt2 reproduce``)."""
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run episodes in N local worker processes (0: in this process); with --ray, Ray "
        "tasks in flight at once (0: one per cluster CPU). Results equal the serial run's "
        "(random and expert exactly; a bf16 VLA up to a rounding now and then)",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run episodes as Ray tasks: alone, on a local Ray instance with --workers CPUs; or "
        "on the cluster at ADDRESS ('auto', 'ray://HOST:10001'). Needs `pip install rt2[ray]`",
    )
    parser.add_argument(
        "--worker-threads", type=int, default=1, help="torch threads per worker (with workers)"
    )


def workers_of(args: argparse.Namespace) -> Workers:
    """The :class:`~rt2.evaluation.distributed.Workers` the worker arguments ask for."""
    from rt2.evaluation.distributed import Workers

    return Workers(args.workers, args.ray, args.worker_threads)


def command_line(args: argparse.Namespace) -> list[str]:
    """An ``rt2 eval`` argument list equivalent to ``args`` (recorded in the report)."""
    argv = ["eval"]
    for key, value in sorted(vars(args).items()):
        if key.startswith("_") or key == "command" or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    return argv


def run(args: argparse.Namespace) -> int:
    if args.data is not None:
        from rt2.commands.evaluate_offline import run_offline

        return run_offline(args, command_line(args))
    import time
    from dataclasses import asdict, replace
    from pathlib import Path

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from rt2.actions import ActionSpace
    from rt2.evaluation.chunking import ChunkExecution
    from rt2.evaluation.distributed import PolicySpec, evaluate
    from rt2.evaluation.episode_log import SuiteLogs, suite_fingerprint, weights_fingerprint
    from rt2.evaluation.rates import cell
    from rt2.evaluation.report import run_metadata, write_report
    from rt2.evaluation.runner import EpisodeRecord, EvalConfig, plan_episodes

    if args.tasks is not None and args.suite is None:
        suites: tuple[str, ...] = (f"tasks:{Path(args.tasks).stem}",)
    else:
        suites = tuple(s.strip() for s in (args.suite or "seen").split(",") if s.strip())
    if args.tasks is not None and len(suites) != 1:
        raise ValueError(
            f"--tasks runs one task file: give at most one --suite label, got {suites}"
        )
    config = EvalConfig(
        suites=suites,
        episodes=50 if args.episodes is None else args.episodes,
        seed=args.seed,
        num_envs=args.num_envs,
        image_size=args.image_size,
        max_steps=args.max_steps,
        task_file=args.tasks,
        terminate_action=args.terminate_action,
        videos=args.videos,
        env_id=ENVS[args.env],
        execution=ChunkExecution(args.execute, args.execute_steps),
    )
    if args.env == "kitchen":  # RT-2's 8-dim space; the kitchen's own scripted expert
        space = ActionSpace.preset("rt2")
    else:
        space = ActionSpace.preset("language_table", terminate=args.terminate_action)
    spec = PolicySpec(args.policy, space, args.seed, args.noise, args.env, args.compile)
    workers = workers_of(args)
    out = Path(args.out)
    logs = SuiteLogs(out / "cells", suites)
    played = {
        "policy": args.policy,
        "weights": weights_fingerprint(args.policy),
        "suite_files": {s: suite_fingerprint(s, args.tasks) for s in suites},
        "noise": args.noise,
        **asdict(config),
    }
    played.pop("episodes")
    played.pop("videos")
    done = logs.open(played, args.resume)
    all_jobs = plan_episodes(config)
    jobs = logs.remaining(all_jobs, done)
    policy = spec.build() if workers.serial and jobs else None  # workers build their own
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
        disable=args.no_progress,
    )
    with progress:
        resumed = len(all_jobs) - len(jobs)
        task = progress.add_task("eval", total=len(all_jobs), completed=resumed, status="")
        successes = sum(r.success for j in all_jobs if (r := done[j.suite].get(j.index)))

        def on_episode(rec: EpisodeRecord) -> None:
            nonlocal successes
            logs.append(rec)
            successes += rec.success
            n = progress.tasks[0].completed + 1
            progress.update(task, advance=1, status=f"{rec.suite} | success {successes / n:.0%}")

        start = time.perf_counter()
        new = evaluate(
            spec,
            config,
            jobs=jobs,
            workers=workers,
            on_episode=on_episode,
            video_dir=out,
            policy=policy,
        )
        seconds = time.perf_counter() - start
    records = SuiteLogs.merge(all_jobs, done, new)
    blind = None
    if args.env == "tabletop" and args.policy != "blind-expert" and not args.no_blind_baseline:
        blind_spec = PolicySpec("blind-expert", space, args.seed, 0.0, args.env)
        blind = evaluate(blind_spec, replace(config, videos=0), jobs=all_jobs, workers=workers)
    meta = run_metadata(
        command_line(args),
        args.seed,
        {
            "policy": args.policy,
            "config": asdict(config),
            "wall_seconds": seconds,
            "workers": workers.describe(),
            "env_steps": sum(r.steps for r in records),
        },
    )
    summary = write_report(out, records, meta, blind=blind)
    for suite, g in summary.suites.items():
        line = f"{suite:>22}: {cell(g.success, 1, percent=True)} over {g.success.n} episodes"
        if g.blind_expert is not None:
            line += f"; blind expert {100 * g.blind_expert.rate:.1f}%"
        if g.referents is not None:
            line += "; referents " + ", ".join(
                f"{k} {100 * v.rate:.0f}% (chance {100 * (v.chance or 0.0):.0f}%)"
                for k, v in g.referents.items()
            )
        console.print(line)
    console.print(f"report: {out / 'report.md'} ({meta['env_steps']} env steps in {seconds:.1f}s)")
    return 0
