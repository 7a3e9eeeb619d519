"""``rt2 bench``'s output: it times the cases of each table and prints it, in this order:
inference rows, rt2-mini and tiny ratios, training, training presets, closed loop; then the
JSON file of every row."""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

import torch
from rich.console import Console
from rich.table import Table

from rt2.bench.cases import (
    BenchCase,
    BenchRow,
    closed_loop_cases,
    default_cases,
    training_cases,
)
from rt2.bench.models import bench_closed_loop, bench_inference, bench_training, build_case
from rt2.bench.vla import bench_preset_training


def run_bench(
    batches: tuple[int, ...],
    models: tuple[str, ...],
    repeats: int = 10,
    presets: tuple[str, ...] = (),
    compiled: bool = False,
    json_path: str | None = None,
) -> None:
    """Time and print every table for ``models`` (and the training ``presets``); write the
    rows to ``json_path`` if given."""
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(
        f"[bold]rt2 bench[/] torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}; VLAs 256 bins per action dim, RT-1 the "
        "rt1-tabletop preset's 21"
    )
    rows = []
    with console.status("timing...") as status:
        for case in default_cases(batches, models, compiled):
            status.update(f"timing {case}")
            rows.append(bench_inference(case, build_case, repeats=repeats))
    if rows:
        console.print(inference_table(rows))
    if "rt2-mini" in models:
        console.print(rt2_mini_ratios(rows, compiled))
    if "tiny" in models:  # ratios compare tiny rows
        console.print(tiny_ratios(rows, batches))
    train_rows = [
        {"model": c.model, "space": c.space, "decoding": c.decoding, "precision": c.precision,
         "batch": c.batch, "samples_per_s": bench_training(build_case, c)}
        for c in training_cases(models)
    ]  # fmt: skip
    if train_rows:
        console.print(training_table(train_rows))
    preset_rows = [{"preset": name, **bench_preset_training(name)} for name in presets]
    if preset_rows:
        console.print(preset_table(preset_rows))
    loop_rows = []
    if "rt2-mini" in models:  # closed-loop evaluation: envs in lockstep, batched policy calls
        loop_rows = [
            {**vars(case), "env_steps_per_s": bench_closed_loop(case, build_case)}
            for case in closed_loop_cases(batches[-1], compiled)
        ]
        console.print(closed_loop_table(loop_rows))
    if json_path:
        payload = {
            "inference": [
                {**vars(r.case), **{k: v for k, v in vars(r).items() if k != "case"}, "hz": r.hz}
                for r in rows
            ],
            "training": train_rows,
            "training_presets": preset_rows,
            "closed_loop": loop_rows,
        }
        with open(json_path, "w") as f:
            json.dump(payload, f, indent=2)


def _table(title: str, columns: tuple[str, ...], justify: str = "right") -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    return table


def inference_table(rows: list[BenchRow]) -> Table:
    """One line per inference row: the case, its size, stage latencies and rates."""
    table = _table(
        "observation -> action (median ms)",
        ("model", "space", "mapping", "decoding", "chunk", "precision", "compiled", "layout",
         "batch", "params", "tok/action", "vision", "prefill", "decode", "total", "Hz/robot",
         "actions/s"),
    )  # fmt: skip
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
    return table


def find_row(
    rows: list[BenchRow],
    mapping: str,
    precision: str,
    batch: int,
    model: str = "tiny",
    space: str = "rt2",
    decoding: str = "autoregressive",
    chunk: int = 1,
    compiled: bool = False,
    prompt_first: bool = False,
) -> BenchRow:
    """The inference row of this (non-training) case."""
    want = BenchCase(
        model, mapping, precision, batch, space, False, decoding, chunk, compiled, prompt_first
    )
    return next(r for r in rows if r.case == want)


def _ratio_table(title: str) -> Table:
    table = Table(title=title)
    table.add_column("comparison")
    table.add_column("ratio", justify="right")
    return table


def rt2_mini_ratios(rows: list[BenchRow], compiled: bool) -> Table:
    """rt2-mini's speed ratios measured in the same run (action space, precision, decoding,
    prompt layout; ``compiled``: compiled vs eager)."""
    mini = _ratio_table("rt2-mini ratios (same run)")

    def find(precision: str, **kw: Any) -> BenchRow:
        return find_row(rows, "reserved", precision, 1, "rt2-mini", **kw)

    for precision in ("bfloat16", "int8"):
        rt2, lt = find(precision), find(precision, space="language_table")
        mini.add_row(f"rt2 (8 dims) / language_table (2 dims) latency, {precision}",
                     f"{rt2.total_ms / lt.total_ms:.2f}x")  # fmt: skip
    bf, i8 = find("bfloat16"), find("int8")
    mini.add_row("bf16 / int8 latency (rt2 space)", f"{bf.total_ms / i8.total_ms:.2f}x")
    for precision in ("bfloat16", "int8"):
        ar = find(precision)
        par = find(precision, decoding="parallel")
        chunked = find(precision, decoding="parallel", chunk=8)
        mini.add_row(f"parallel / autoregressive Hz (rt2 space, {precision}, batch 1)",
                     f"{par.hz / ar.hz:.2f}x")  # fmt: skip
        mini.add_row(f"actions/s, chunk 8 / autoregressive ({precision}, batch 1)",
                     f"{chunked.actions_per_s / ar.actions_per_s:.2f}x")  # fmt: skip
    for precision in ("bfloat16", "int8"):
        par = find(precision, decoding="parallel")
        cached = find(precision, decoding="parallel", prompt_first=True)
        mini.add_row(f"prompt-first (cached prompt) / image-first Hz (parallel, {precision})",
                     f"{cached.hz / par.hz:.2f}x")  # fmt: skip
    if compiled:
        best = find("bfloat16", decoding="parallel", compiled=True, prompt_first=True)
        ar, ar_c = find("bfloat16"), find("bfloat16", compiled=True)
        par = find("bfloat16", decoding="parallel")
        par_c = find("bfloat16", decoding="parallel", compiled=True)
        mini.add_row("compiled / eager Hz (parallel, bf16, batch 1)",
                     f"{par_c.hz / par.hz:.2f}x")  # fmt: skip
        mini.add_row("compiled parallel / compiled autoregressive Hz (bf16, batch 1)",
                     f"{par_c.hz / ar_c.hz:.2f}x")  # fmt: skip
        mini.add_row("compiled parallel / eager autoregressive Hz (bf16, batch 1)",
                     f"{par_c.hz / ar.hz:.2f}x")  # fmt: skip
        mini.add_row("compiled prompt-first parallel / compiled autoregressive Hz (bf16)",
                     f"{best.hz / ar_c.hz:.2f}x")  # fmt: skip
    return mini


def tiny_ratios(rows: list[BenchRow], batches: tuple[int, ...]) -> Table:
    """tiny's token-mapping, precision and batching ratios (same run)."""
    b1, bn = batches[0], batches[-1]
    ratios = _ratio_table("ratios (same run)")

    def ms(mapping: str, precision: str, batch: int) -> float:
        return find_row(rows, mapping, precision, batch).total_ms

    ratios.add_row(f"integers / reserved latency (fp32, batch {b1})",
                   f"{ms('integers', 'float32', b1) / ms('reserved', 'float32', b1):.2f}x")  # fmt: skip
    ratios.add_row(f"fp32 / bf16 latency (reserved, batch {b1})",
                   f"{ms('reserved', 'float32', b1) / ms('reserved', 'bfloat16', b1):.2f}x")  # fmt: skip
    if bn != b1:
        ratios.add_row(f"fp32 / bf16 latency (reserved, batch {bn})",
                       f"{ms('reserved', 'float32', bn) / ms('reserved', 'bfloat16', bn):.2f}x")  # fmt: skip
        aps = [find_row(rows, "reserved", "float32", b).actions_per_s for b in (bn, b1)]
        ratios.add_row(f"actions/s batch {bn} / batch {b1} (reserved, fp32)",
                       f"{aps[0] / aps[1]:.2f}x")  # fmt: skip
    return ratios


def training_table(train_rows: list[dict[str, Any]]) -> Table:
    """Training samples/s per case (forward + backward + AdamW)."""
    train = Table(title="training (forward + backward + AdamW)")
    for col in ("model", "space", "decoding", "precision"):
        train.add_column(col)
    train.add_column("batch", justify="right")
    train.add_column("samples/s", justify="right")
    for r in train_rows:
        train.add_row(r["model"], r["space"], r["decoding"], r["precision"], str(r["batch"]),
                      f"{r['samples_per_s']:.1f}")  # fmt: skip
    return train


def preset_table(preset_rows: list[dict[str, Any]]) -> Table:
    """Each preset's batch, tokens per sample and samples/s, as a ratio to the first."""
    table = _table(
        "training presets: their batch and sample mix (bf16 autocast)",
        ("preset", "batch", "tokens/sample", "samples/s", "ratio"),
    )
    for row in preset_rows:
        ratio = row["samples_per_s"] / preset_rows[0]["samples_per_s"]
        table.add_row(row["preset"], str(row["batch"]), f"{row['tokens_per_sample']:.0f}",
                      f"{row['samples_per_s']:.2f}", f"{ratio:.2f}x")  # fmt: skip
    return table


def closed_loop_table(loop_rows: list[dict[str, Any]]) -> Table:
    """Closed-loop evaluation env steps/s per decoding, chunk, compilation and prompt layout."""
    table = _table(
        "closed-loop evaluation, tabletop (env steps/s)",
        ("model", "decoding", "chunk", "compiled", "layout", "envs", "env steps/s"),
    )
    for r in loop_rows:
        table.add_row(r["model"], r["decoding"], str(r["chunk"]), "yes" if r["compiled"] else "",
                      "prompt-first" if r["prompt_first"] else "image-first",
                      str(r["batch"]), f"{r['env_steps_per_s']:.0f}")  # fmt: skip
    return table
