"""Where one ``act_batch`` call of a benched VLA spends its time (``torch.profiler``, CPU).

    python benchmarks/profile_act.py --model rt2-mini --decoding parallel --precision bfloat16

Prints the operators by self CPU time over ``--repeats`` calls after a warm-up, and the stage
timings ``act_batch`` reports. Run it on idle cores: it measures, it does not compare.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from rt2.bench import INSTRUCTION, BenchCase, build_case


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="rt2-mini")
    ap.add_argument("--mapping", default="reserved")
    ap.add_argument("--precision", default="bfloat16")
    ap.add_argument("--decoding", default="parallel")
    ap.add_argument("--chunk", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--space", default="rt2")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--rows", type=int, default=25, help="operators to print")
    args = ap.parse_args()
    case = BenchCase(
        args.model, args.mapping, args.precision, args.batch, args.space,
        decoding=args.decoding, chunk=args.chunk,
    )  # fmt: skip
    torch.manual_seed(0)
    vla = build_case(case).eval()
    vla.precision = case.precision  # type: ignore[assignment]
    size = vla.backbone.image_size
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (case.batch, size, size, 3), dtype=np.uint8)
    instructions = [INSTRUCTION] * case.batch
    for _ in range(2):
        vla.act_batch(images, instructions)  # warm-up (and any per-episode cache)
    stages: dict[str, list[float]] = {}
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            res = vla.act_batch(images, instructions)
            stages.setdefault("total", []).append(time.perf_counter() - t0)
            for k, v in res.timings.items():
                stages.setdefault(k, []).append(v)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    print(
        "stages (median ms, under the profiler):",
        {k: round(1000 * float(np.median(v)), 1) for k, v in stages.items()},
    )


if __name__ == "__main__":
    main()
