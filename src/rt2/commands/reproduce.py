"""``rt2 reproduce``: the RT-2 paper's tables in miniature, from shipped checkpoints."""

from __future__ import annotations

import argparse

from rt2.commands.evaluate import add_worker_arguments, command_line, workers_of

HELP = "Evaluate every checkpoint on the same seeds -> the paper's tables (report.md/json, plots)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated policies: random, rt2:NAME or checkpoint paths (default: the "
        "paper's rows rt2:rt2-mini, rt2:rt2-mini-co, rt2:rt2-mini-ft, rt2:rt2-mini-scratch, "
        "rt2:rt1, rt2:tiny-vla and random; rt2:rt2-mini and rt2:rt1 play their -wip milestones "
        "until they ship; other names not in the package yet are marked so)",
    )
    parser.add_argument("--episodes", type=int, default=None, help="per suite and model (50)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 short episodes per cell and 24 knowledge questions (under a minute for random + rt2:tiny-vla)",
    )
    parser.add_argument("--out", required=True, help="report directory (resumes what is there)")
    parser.add_argument(
        "--seed", type=int, default=None, help="episode i uses seed SEED + i (10000)"
    )
    parser.add_argument("--max-steps", type=int, default=None, help="episode step limit (40)")
    parser.add_argument("--num-envs", type=int, default=None, help="envs stepped in lockstep (8)")
    parser.add_argument(
        "--knowledge-sets",
        default=None,
        help="comma-separated eval-knowledge sets per VLA (knowledge,vqa,caption; quick: knowledge)",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the bar charts")
    add_worker_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rt2.evaluation.reproduce import DEFAULT_MODELS, ReproduceConfig, reproduce

    models = (
        tuple(m.strip() for m in args.models.split(",") if m.strip())
        if args.models
        else DEFAULT_MODELS
    )
    overrides = {
        k: v
        for k, v in {
            "episodes": args.episodes,
            "seed": args.seed,
            "max_steps": args.max_steps,
            "num_envs": args.num_envs,
            "knowledge_sets": tuple(s.strip() for s in args.knowledge_sets.split(","))
            if args.knowledge_sets
            else None,
        }.items()
        if v is not None
    }
    common = {
        "models": models,
        "workers": workers_of(args),
        "plots": not args.no_plots,
    }
    out = Path(args.out)
    if args.quick:
        config = ReproduceConfig.quick_config(out, **common, **overrides)
    else:
        config = ReproduceConfig(out, **common, **overrides)
    argv = command_line(args)
    argv[0] = "reproduce"
    reproduce(config, argv=argv)
    return 0
