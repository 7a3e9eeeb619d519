"""``rt2 eval-knowledge``: world-knowledge, VQA, caption and pointing accuracy of a VLA -> JSON."""

from __future__ import annotations

import argparse

HELP = (
    "Score a VLA on knowledge / VQA / caption questions (likelihood ranking and exact match) "
    "and on pointing (greedy cells on held-out scenes)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a checkpoint or run directory (`rt2 train --out`)")
    source.add_argument(
        "--backbone", help="an untrained VLA over this backbone, e.g. rt2-mini (the base VLM)"
    )
    parser.add_argument("--out", required=True, help="JSON file for the results")
    parser.add_argument(
        "--sets",
        default="knowledge,vqa,caption",
        help="comma-separated: knowledge, vqa, caption, pointing",
    )
    parser.add_argument(
        "--pointing-questions", type=int, default=128, help="held-out pointing questions"
    )
    parser.add_argument(
        "--point-code",
        choices=("auto", "digits", "letters"),
        default="auto",
        help="how the model writes a cell (auto: its training run's data.plan_code)",
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
    from rt2.evaluation.pointing import RADII, PointingEvalConfig, evaluate_pointing
    from rt2.model import VLA, build_vla
    from rt2.training.factory import load_model, saved_config

    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    pointing = "pointing" in sets
    sets = tuple(s for s in sets if s != "pointing")
    code = args.point_code
    if args.checkpoint:
        model = load_model(args.checkpoint)
        if not isinstance(model, VLA):
            raise ValueError(
                f"--checkpoint {args.checkpoint} holds a {type(model).__name__}, not a VLA: "
                "only language-model policies answer questions"
            )
        source = f"checkpoint:{args.checkpoint}"
        if code == "auto":
            code = saved_config(args.checkpoint).data.plan_code
    else:
        model = build_vla(args.backbone, "language_table", mapping="reserved")
        source = f"backbone:{args.backbone}"
    code = "digits" if code == "auto" else code
    result: dict = {"source": source, "sets": {}}
    if sets:
        config = KnowledgeEvalConfig(
            sets=sets,
            vqa_questions=args.vqa_questions,
            captions=args.captions,
            seed=args.seed,
            batch_size=args.batch_size,
            exact_match=not args.no_exact_match,
        )
        result = evaluate_knowledge(model, config, progress=not args.no_progress, source=source)
    if pointing:
        result["pointing"] = evaluate_pointing(
            model,
            PointingEvalConfig(args.pointing_questions, args.seed, code, args.batch_size),
        )
    path = write_json(result, args.out)
    console = Console()
    if sets:
        table = Table(title=f"{source} (mc: answer log-likelihood among candidates)")
        for col in ("set", "type", "n", "mc_acc", "chance", "exact_match"):
            table.add_column(col, justify="left" if col in ("set", "type") else "right")
        for row in format_table(result):
            table.add_row(*(str(v) for v in row))
        console.print(table)
    if pointing:
        summary = result["pointing"]["summary"]
        table = Table(
            title=f"{source}: pointing on held-out scenes ({code}; chance within 1: 0.9%)"
        )
        for col in ("within", "correct", "n", "rate", "95% interval"):
            table.add_column(col, justify="right")
        for r in RADII:
            b = summary[f"within_{r}"]
            low, high = b["ci95"]
            table.add_row(f"{r} cells", str(b["correct"]), str(summary["n"]),
                          f"{100 * b['rate']:.1f}%", f"[{100 * low:.1f}, {100 * high:.1f}]")  # fmt: skip
        console.print(table)
        console.print(f"answers that are not a cell: {summary['not_a_cell']} of {summary['n']}")
    console.print(f"wrote {path}")
    return 0
