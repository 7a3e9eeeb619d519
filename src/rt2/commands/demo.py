"""``rt2 demo``: the README's main job: the shipped VLA beside RT-1 and random, closed loop."""

from __future__ import annotations

import argparse

HELP = (
    "Evaluate the shipped VLA (rt2-mini) beside RT-1 and random on the paper's suites, sized to a "
    "time budget measured on this machine; report, plot, GIFs (~15 min)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/demo", help="output directory")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="evaluation time budget (default 14): sets the episodes per suite",
    )
    parser.add_argument(
        "--eval-episodes", type=int, default=None, help="at most this many episodes per suite"
    )
    parser.add_argument(
        "--fine-tune",
        action="store_true",
        help="first collect demonstrations and co-fine-tune rt2:tiny-vla on them (+~10 min)",
    )
    parser.add_argument(
        "--episodes", type=int, default=None, help="expert demonstrations (--fine-tune)"
    )
    parser.add_argument("--steps", type=int, default=None, help="training steps (--fine-tune)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="a one-minute smoke run of every stage"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rt2.demo import QUICK, DemoConfig, run_demo

    values = dict(QUICK) if args.quick else {}
    for key in ("episodes", "steps", "eval_episodes"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.minutes is not None:
        values["budget_minutes"] = args.minutes
    run_demo(DemoConfig(out=Path(args.out), seed=args.seed, fine_tune=args.fine_tune, **values))
    return 0
