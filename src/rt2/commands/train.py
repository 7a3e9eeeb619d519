"""``rt2 train``: train a VLA from a preset (plus ``key=value`` overrides) with Accelerate."""

from __future__ import annotations

import argparse

HELP = "Train or co-fine-tune a VLA from a preset; --resume continues the last checkpoint."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", help="preset name (see --list)")
    parser.add_argument(
        "--data", help="robot dataset directory (LeRobot v3, e.g. from `rt2 collect`)"
    )
    parser.add_argument("--out", help="run directory: checkpoints, metrics.jsonl, config.json")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the last checkpoint in --out"
    )
    parser.add_argument(
        "--resume-from",
        default=None,
        metavar="CKPT",
        help="continue the run saved in CKPT (a checkpoint, an `rt2 export` or rt2:NAME) at its "
        "step, writing to --out; without its optimizer state AdamW restarts",
    )
    parser.add_argument("--steps", type=int, help="shortcut for optim.steps=N")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    parser.add_argument(
        "--show",
        action="store_true",
        help="print the resolved config of --preset (with overrides) and what differs from the "
        "defaults, then exit without training",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="e.g. optim.lr=3e-4 data.weights=robot:0.7,web:0.3",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from rt2.training.config import apply_overrides
    from rt2.training.presets import describe_presets, get_preset
    from rt2.training.trainer import Trainer

    console = Console()
    if args.list:
        for name, doc in describe_presets():
            console.print(f"[bold]{name:<18}[/] {doc}")
        return 0
    if args.show:
        from rt2.training.config_report import show

        if not args.preset:
            raise SystemExit("rt2 train --show: --preset NAME is required")
        overrides = list(args.overrides) + ([f"optim.steps={args.steps}"] if args.steps else [])
        print(show(apply_overrides(get_preset(args.preset), overrides)))
        return 0
    if not args.out:
        raise SystemExit("rt2 train: --out DIR is required")
    if args.resume and args.resume_from:
        raise SystemExit("rt2 train: give --resume or --resume-from, not both")
    if (args.resume or args.resume_from) and not args.preset:
        config = None
    else:
        if not args.preset:
            raise SystemExit("rt2 train: --preset NAME is required (see `rt2 train --list`)")
        overrides = list(args.overrides) + ([f"optim.steps={args.steps}"] if args.steps else [])
        config = apply_overrides(get_preset(args.preset), overrides)
    trainer = Trainer(
        config,  # type: ignore[arg-type]
        args.out,
        args.data,
        resume=args.resume_from or args.resume,
        console=console,
    )
    result = trainer.run(progress=not args.no_progress)
    if not trainer.accelerator.is_main_process:
        return 0
    console.print(
        f"{result.summary()}; last checkpoint: {result.checkpoint}; "
        + ", ".join(f"{k} {v:.4f}" for k, v in result.eval_metrics.items())
    )
    return 0
