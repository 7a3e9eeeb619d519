"""Inference and training speed: observation -> action latency split by stage.

``rt2 bench`` prints one row per (model, action mapping, precision, batch): median latency of
the vision tower, prompt prefill and action decoding, the whole observation -> action call, the
control rate it allows, and speed ratios measured in the same run.

- :mod:`rt2.bench.cases`: :class:`BenchCase`, :class:`BenchRow` and the cases of each table.
- :mod:`rt2.bench.timing`: medians, random samples, training samples/s.
- :mod:`rt2.bench.vla` / :mod:`rt2.bench.rt1`: the VLAs' rows and the RT-1 baseline's.
- :mod:`rt2.bench.models`: each bench model's builder and timers.
- :mod:`rt2.bench.tables`: what ``rt2 bench`` prints (and writes with ``--json``).
"""

from rt2.bench.cases import (
    INSTRUCTION,
    RT1_SPACE,
    BenchCase,
    BenchRow,
    default_cases,
    default_models,
)
from rt2.bench.models import (
    BUILDERS,
    bench_closed_loop,
    bench_inference,
    bench_training,
    build_case,
)
from rt2.bench.tables import run_bench
from rt2.bench.vla import bench_preset_training, preset_samples

__all__ = [
    "BUILDERS",
    "INSTRUCTION",
    "RT1_SPACE",
    "BenchCase",
    "BenchRow",
    "bench_closed_loop",
    "bench_inference",
    "bench_preset_training",
    "bench_training",
    "build_case",
    "default_cases",
    "default_models",
    "preset_samples",
    "run_bench",
]
