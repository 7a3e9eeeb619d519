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
    import json
    import platform
    import sys

    import torch
    from rich.console import Console
    from rich.table import Table

    from rt2.bench import (
        BenchCase,
        bench_closed_loop,
        bench_inference,
        bench_preset_training,
        bench_training,
        build_case,
        default_cases,
        default_models,
    )
    from rt2.bench_common import RT1_SPACE

    if args.threads:
        torch.set_num_threads(args.threads)
    batches = tuple(int(b) for b in args.batches.split(","))
    if args.models:
        models = tuple(args.models.split(","))
    else:  # --presets alone times only the presets
        models = () if args.presets else default_models()
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(
        f"[bold]rt2 bench[/] torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}; VLAs 256 bins per action dim, RT-1 the "
        "rt1-tabletop preset's 21"
    )
    rows = []
    with console.status("timing...") as status:
        for case in default_cases(batches, models, args.compile):
            status.update(f"timing {case}")
            rows.append(bench_inference(case, build_case, repeats=args.repeats))
    table = Table(title="observation -> action (median ms)")
    for col in ("model", "space", "mapping", "decoding", "chunk", "precision", "compiled", "layout", "batch", "params",
                "tok/action", "vision", "prefill", "decode", "total", "Hz/robot", "actions/s"):  # fmt: skip
        table.add_column(col, justify="right")
    for r in rows:
        c = r.case
        table.add_row(
            c.model, c.space, c.mapping, c.decoding, str(c.chunk), c.precision,
            "yes" if c.compiled else "", "prompt-first" if c.prompt_first else "image-first",
            str(c.batch),
            f"{r.params / 1e6:.1f}M", str(r.tokens_per_action), f"{r.vision_ms:.1f}",
            f"{r.prefill_ms:.1f}", f"{r.decode_ms:.1f}", f"{r.total_ms:.1f}", f"{r.hz:.1f}",
            f"{r.actions_per_s:.0f}",
        )  # fmt: skip
    if rows:
        console.print(table)

    def find(
        mapping: str,
        precision: str,
        batch: int,
        model: str = "tiny",
        space: str = "rt2",
        decoding: str = "autoregressive",
        chunk: int = 1,
        compiled: bool = False,
        prompt_first: bool = False,
    ):
        want = BenchCase(
            model, mapping, precision, batch, space, False, decoding, chunk, compiled, prompt_first
        )
        return next(r for r in rows if r.case == want)

    if "rt2-mini" in models:
        mini = Table(title="rt2-mini ratios (same run)")
        mini.add_column("comparison")
        mini.add_column("ratio", justify="right")
        for precision in ("bfloat16", "int8"):
            rt2 = find("reserved", precision, 1, "rt2-mini")
            lt = find("reserved", precision, 1, "rt2-mini", "language_table")
            mini.add_row(f"rt2 (8 dims) / language_table (2 dims) latency, {precision}",
                         f"{rt2.total_ms / lt.total_ms:.2f}x")  # fmt: skip
        bf, i8 = (
            find("reserved", "bfloat16", 1, "rt2-mini"),
            find("reserved", "int8", 1, "rt2-mini"),
        )
        mini.add_row("bf16 / int8 latency (rt2 space)", f"{bf.total_ms / i8.total_ms:.2f}x")
        for precision in ("bfloat16", "int8"):
            ar = find("reserved", precision, 1, "rt2-mini")
            par = find("reserved", precision, 1, "rt2-mini", decoding="parallel")
            chunked = find("reserved", precision, 1, "rt2-mini", decoding="parallel", chunk=8)
            mini.add_row(f"parallel / autoregressive Hz (rt2 space, {precision}, batch 1)",
                         f"{par.hz / ar.hz:.2f}x")  # fmt: skip
            mini.add_row(f"actions/s, chunk 8 / autoregressive ({precision}, batch 1)",
                         f"{chunked.actions_per_s / ar.actions_per_s:.2f}x")  # fmt: skip
        for precision in ("bfloat16", "int8"):
            par = find("reserved", precision, 1, "rt2-mini", decoding="parallel")
            cached = find(
                "reserved", precision, 1, "rt2-mini", decoding="parallel", prompt_first=True
            )
            mini.add_row(f"prompt-first (cached prompt) / image-first Hz (parallel, {precision})",
                         f"{cached.hz / par.hz:.2f}x")  # fmt: skip
        if args.compile:
            best = find("reserved", "bfloat16", 1, "rt2-mini", decoding="parallel",
                        compiled=True, prompt_first=True)  # fmt: skip
            ar, ar_c = (
                find("reserved", "bfloat16", 1, "rt2-mini"),
                find("reserved", "bfloat16", 1, "rt2-mini", compiled=True),
            )
            par, par_c = (
                find("reserved", "bfloat16", 1, "rt2-mini", decoding="parallel", compiled=c)
                for c in (False, True)
            )
            mini.add_row("compiled / eager Hz (parallel, bf16, batch 1)",
                         f"{par_c.hz / par.hz:.2f}x")  # fmt: skip
            mini.add_row("compiled parallel / compiled autoregressive Hz (bf16, batch 1)",
                         f"{par_c.hz / ar_c.hz:.2f}x")  # fmt: skip
            mini.add_row("compiled parallel / eager autoregressive Hz (bf16, batch 1)",
                         f"{par_c.hz / ar.hz:.2f}x")  # fmt: skip
            mini.add_row("compiled prompt-first parallel / compiled autoregressive Hz (bf16)",
                         f"{best.hz / ar_c.hz:.2f}x")  # fmt: skip
        console.print(mini)

    if "tiny" in models:  # ratios compare tiny rows
        b1, bn = batches[0], batches[-1]
        ratios = Table(title="ratios (same run)")
        ratios.add_column("comparison")
        ratios.add_column("ratio", justify="right")
        ratios.add_row(f"integers / reserved latency (fp32, batch {b1})",
                       f"{find('integers', 'float32', b1).total_ms / find('reserved', 'float32', b1).total_ms:.2f}x")  # fmt: skip
        ratios.add_row(f"fp32 / bf16 latency (reserved, batch {b1})",
                       f"{find('reserved', 'float32', b1).total_ms / find('reserved', 'bfloat16', b1).total_ms:.2f}x")  # fmt: skip
        if bn != b1:
            ratios.add_row(f"fp32 / bf16 latency (reserved, batch {bn})",
                           f"{find('reserved', 'float32', bn).total_ms / find('reserved', 'bfloat16', bn).total_ms:.2f}x")  # fmt: skip
            ratios.add_row(f"actions/s batch {bn} / batch {b1} (reserved, fp32)",
                           f"{find('reserved', 'float32', bn).actions_per_s / find('reserved', 'float32', b1).actions_per_s:.2f}x")  # fmt: skip
        console.print(ratios)

    train = Table(title="training (forward + backward + AdamW)")
    train.add_column("model")
    train.add_column("space")
    train.add_column("decoding")
    train.add_column("precision")
    train.add_column("batch", justify="right")
    train.add_column("samples/s", justify="right")
    train_rows = []
    train_cases = [
        BenchCase("tiny", "reserved", p, 16, train=True)
        for p in ("float32", "bfloat16")
        if "tiny" in models
    ]
    if "rt2-mini" in models:  # the presets' configuration: LoRA, frozen stride-16 trunk
        train_cases += [
            BenchCase("rt2-mini", "reserved", "bfloat16", 16, "language_table", train=True),
            BenchCase("rt2-mini", "reserved", "bfloat16", 16, "language_table", True, "parallel"),
        ]
    if "rt1" in models:  # RT-1 baseline (rt1-tabletop sizes), 6 frames per sample
        train_cases += [
            BenchCase("rt1", "classes", p, 16, RT1_SPACE, True, "one-pass")
            for p in ("float32", "bfloat16")
        ]
    for case in train_cases:
        sps = bench_training(build_case, case)
        train_rows.append(
            {"model": case.model, "space": case.space, "decoding": case.decoding,
             "precision": case.precision, "batch": case.batch, "samples_per_s": sps}
        )  # fmt: skip
        train.add_row(case.model, case.space, case.decoding, case.precision, str(case.batch),
                      f"{sps:.1f}")  # fmt: skip
    if train_rows:
        console.print(train)
    preset_rows = []
    if args.presets:
        preset_table = Table(title="training presets: their batch and sample mix (bf16 autocast)")
        for col in ("preset", "batch", "tokens/sample", "samples/s", "ratio"):
            preset_table.add_column(col, justify="right")
        for name in args.presets.split(","):
            row = {"preset": name, **bench_preset_training(name)}
            preset_rows.append(row)
            ratio = row["samples_per_s"] / preset_rows[0]["samples_per_s"]
            preset_table.add_row(name, str(row["batch"]), f"{row['tokens_per_sample']:.0f}",
                                 f"{row['samples_per_s']:.2f}", f"{ratio:.2f}x")  # fmt: skip
        console.print(preset_table)
    loop_rows = []
    if "rt2-mini" in models:  # closed-loop evaluation: envs in lockstep, batched policy calls
        loop = Table(title="closed-loop evaluation, tabletop (env steps/s)")
        for col in ("model", "decoding", "chunk", "compiled", "layout", "envs", "env steps/s"):
            loop.add_column(col, justify="right")
        variants = [("autoregressive", 1, False, False), ("parallel", 1, False, False),
                    ("parallel", 8, False, False), ("parallel", 1, False, True)]  # fmt: skip
        if args.compile:
            variants += [("parallel", 1, True, True), ("parallel", 8, True, True)]
        for decoding, chunk, compiled, prompt_first in variants:
            case = BenchCase("rt2-mini", "reserved", "bfloat16", batches[-1], "language_table",
                             decoding=decoding, chunk=chunk, compiled=compiled,
                             prompt_first=prompt_first)  # fmt: skip
            steps_per_s = bench_closed_loop(case, build_case)
            loop_rows.append({**vars(case), "env_steps_per_s": steps_per_s})
            loop.add_row(case.model, decoding, str(chunk), "yes" if compiled else "",
                         "prompt-first" if prompt_first else "image-first",
                         str(case.batch), f"{steps_per_s:.0f}")  # fmt: skip
        console.print(loop)
    if args.json:
        payload = {
            "inference": [
                {**vars(r.case), **{k: v for k, v in vars(r).items() if k != "case"}, "hz": r.hz}
                for r in rows
            ],
            "training": train_rows,
            "training_presets": preset_rows,
            "closed_loop": loop_rows,
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    return 0
