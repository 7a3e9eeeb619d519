"""``rt2 eval --data DIR --policy CKPT``: offline evaluation on recorded episodes."""

from __future__ import annotations

import argparse


def run_offline(args: argparse.Namespace, argv: list[str]) -> int:
    import numpy as np
    from rich.console import Console

    from rt2.evaluation.offline import OfflineConfig, evaluate_offline, write_offline_report
    from rt2.evaluation.report import run_metadata
    from rt2.training.checkpoint import latest_checkpoint, read_json
    from rt2.training.factory import load_model, saved_config

    console = Console(stderr=True)
    ckpt = latest_checkpoint(args.policy)
    if ckpt is None:
        raise FileNotFoundError(
            f"--data evaluates a checkpoint: --policy {args.policy!r} holds none (a server URL or "
            "a scripted policy cannot be scored offline)"
        )
    episodes = args.episodes or saved_config(ckpt).data.eval_episodes or 8
    config = OfflineConfig(episodes=episodes, plots=min(args.videos, episodes) or 0)
    stats = read_json(ckpt, "stats.json") if (ckpt / "stats.json").is_file() else {}
    mean = np.asarray(stats["action"]["mean"]) if "action" in stats else None
    report = evaluate_offline(load_model(ckpt), args.data, config, mean)
    meta = run_metadata(argv, args.seed, {"policy": args.policy, "checkpoint": str(ckpt)})
    path = write_offline_report(report, args.out, meta)
    line = f"{report['frames']} frames of episodes {report['episodes']}: action MAE {report['mae']:.4g}"
    if "mean_baseline_mae" in report:
        line += f" (training mean: {report['mean_baseline_mae']:.4g})"
    console.print(line)
    console.print(
        f"bin MAE {report['bin_mae']:.3g}, token accuracy {100 * report['token_accuracy']:.1f}% "
        f"(teacher forced {100 * report['token_accuracy_teacher_forced']:.1f}%)"
    )
    for name, d in report["per_dim"].items():
        console.print(f"  {name:>20}: MAE {d['mae']:.4g}, bins {d['bin_mae']:.3g}")
    console.print(f"report: {path}")
    return 0
