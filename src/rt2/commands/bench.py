"""``rt2 bench``: observation -> action latency, control rate and training throughput."""

from __future__ import annotations

import argparse

HELP = "Benchmark VLA inference (vision / prefill / decode latency, Hz) and training speed."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batches", default="1,16", help="comma-separated batch sizes (default 1,16)"
    )
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated: tiny, rt2-mini, rt1 (default: tiny, plus rt2-mini once its SmolLM2 "
        "cache exists; the first rt2-mini run converts the GGUF, ~30 s)",
    )
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per row (median)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    parser.add_argument(
        "--presets",
        default=None,
        help="comma-separated training presets to time on their own batch and sample mix "
        "(plans, action chunks, web items), e.g. rt2-mini,rt2-mini-v2; ratios to the first "
        "(without --models, only these are timed)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time rt2-mini's bf16 rows through torch.compile (each compiles ~1-3 min first)",
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from rt2.bench import default_models, run_bench

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.models:
        models = tuple(args.models.split(","))
    else:  # --presets alone times only the presets
        models = () if args.presets else default_models()
    run_bench(
        batches=tuple(int(b) for b in args.batches.split(",")),
        models=models,
        repeats=args.repeats,
        presets=tuple(args.presets.split(",")) if args.presets else (),
        compiled=args.compile,
        json_path=args.json,
    )
    return 0
