"""``rt2 eval-knowledge``: world-knowledge, VQA and caption accuracy of a VLA -> JSON."""

from __future__ import annotations

import argparse

HELP = "Score a VLA on knowledge / VQA / caption questions (likelihood ranking and exact match)."


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a checkpoint or run directory (`rt2 train --out`)")
    source.add_argument(
        "--backbone", help="an untrained VLA over this backbone, e.g. rt2-mini (the base VLM)"
    )
    parser.add_argument("--out", required=True, help="JSON file for the results")
    parser.add_argument(
        "--sets", default="knowledge,vqa,caption", help="comma-separated: knowledge, vqa, caption"
    )
    parser.add_argument("--vqa-questions", type=int, default=200, help="held-out VQA questions")
    parser.add_argument("--captions", type=int, default=20, help="held-out captioned pictures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out pictures")
    parser.add_argument("--batch-size", type=int, default=16, help="rows per forward pass")
    parser.add_argument(
        "--no-exact-match", action="store_true", help="skip greedy decoding (likelihood only)"
    )
    parser.add_argument("--no-progress", action="store_true", help="disable the progress bar")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from rt2.evaluation.knowledge import (
        KnowledgeEvalConfig,
        evaluate_knowledge,
        format_table,
        write_json,
    )
    from rt2.model import VLA, build_vla
    from rt2.training.factory import load_model

    config = KnowledgeEvalConfig(
        sets=tuple(s.strip() for s in args.sets.split(",") if s.strip()),
        vqa_questions=args.vqa_questions,
        captions=args.captions,
        seed=args.seed,
        batch_size=args.batch_size,
        exact_match=not args.no_exact_match,
    )
    if args.checkpoint:
        model = load_model(args.checkpoint)
        if not isinstance(model, VLA):
            raise ValueError(
                f"--checkpoint {args.checkpoint} holds a {type(model).__name__}, not a VLA: "
                "only language-model policies answer questions"
            )
        source = f"checkpoint:{args.checkpoint}"
    else:
        model = build_vla(args.backbone, "language_table", mapping="reserved")
        source = f"backbone:{args.backbone}"
    result = evaluate_knowledge(model, config, progress=not args.no_progress, source=source)
    path = write_json(result, args.out)
    console = Console()
    table = Table(title=f"{source} (mc: answer log-likelihood among candidates)")
    for col in ("set", "type", "n", "mc_acc", "chance", "exact_match"):
        table.add_column(col, justify="left" if col in ("set", "type") else "right")
    for row in format_table(result):
        table.add_row(*(str(v) for v in row))
    console.print(table)
    console.print(f"wrote {path}")
    return 0
