"""``rt2 export``: a checkpoint without optimizer state, weights cast to bf16, for shipping."""

from __future__ import annotations

import argparse

HELP = "Export a trained checkpoint for shipping: weights only (bf16 by default), config and stats."

DTYPES = ("bfloat16", "float16", "float32")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, help="run or checkpoint directory")
    parser.add_argument("--out", required=True, help="new directory to write")
    parser.add_argument("--dtype", default="bfloat16", choices=DTYPES, help="weight dtype")


def run(args: argparse.Namespace) -> int:
    import torch

    from rt2.training.checkpoint import WEIGHTS, export_checkpoint

    out = export_checkpoint(args.checkpoint, args.out, getattr(torch, args.dtype))
    size = (out / WEIGHTS).stat().st_size / 2**20
    print(f"exported {out} ({size:.1f} MiB of {args.dtype} weights)")
    return 0
