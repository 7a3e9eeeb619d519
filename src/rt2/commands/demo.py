"""``rt2 demo``: the README's main job (collect -> co-fine-tune -> evaluate -> report)."""

from __future__ import annotations

import argparse

HELP = "Collect demos, co-fine-tune the tiny VLA, evaluate it against random, write a report (~15-30 min)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/demo", help="output directory (re-run to resume)")
    parser.add_argument(
        "--episodes", type=int, default=None, help="expert demonstrations to collect"
    )
    parser.add_argument("--steps", type=int, default=None, help="training steps (32 samples each)")
    parser.add_argument(
        "--eval-episodes", type=int, default=None, help="evaluation episodes per suite"
    )
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
    run_demo(DemoConfig(out=Path(args.out), seed=args.seed, **values))
    return 0
