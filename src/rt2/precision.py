"""Which floating-point precision is fast on this machine.

bf16 halves the bytes moved and runs natively on GPUs and on CPUs with AVX512-BF16 or AMX; on a
CPU with AVX2 only, oneDNN emulates it, and a training step runs 17-28x slower than in fp32
(``rt2 bench --models rt1`` on an AVX2 AMD EPYC: RT-1 0.8 samples/s in bf16; the tiny VLA 1.3 in
bf16 against 22.8 in fp32). Defaults ask here instead of assuming bf16; ``RT2_PRECISION=bf16``
or ``fp32`` overrides the answer (to reproduce a run's numerics on another machine).

>>> inference_precision() in ("float32", "bfloat16")
True
"""

from __future__ import annotations

import functools
import os
from typing import Literal

import torch

ENV_VAR = "RT2_PRECISION"


@functools.cache
def native_bf16() -> bool:
    """True where bf16 matmuls and convolutions run natively (CUDA, or a CPU with AVX512-BF16 /
    AMX); ``RT2_PRECISION`` (``bf16`` / ``fp32``) overrides the hardware check."""
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced:
        if forced not in ("bf16", "fp32"):
            raise ValueError(f"{ENV_VAR}: expected 'bf16' or 'fp32', got {forced!r}")
        return forced == "bf16"
    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def training_precision(requested: str) -> Literal["bf16", "fp32"]:
    """A ``TrainConfig.precision`` (``auto``, ``bf16``, ``fp32``) as run here: ``auto`` is bf16
    mixed precision where it is native, else fp32."""
    if requested == "auto":
        return "bf16" if native_bf16() else "fp32"
    if requested not in ("bf16", "fp32"):
        raise ValueError(f"precision: expected 'auto', 'bf16' or 'fp32', got {requested!r}")
    return requested  # type: ignore[return-value]


def inference_precision() -> Literal["float32", "bfloat16"]:
    """The autocast precision policies use by default: bfloat16 where native, else float32."""
    return "bfloat16" if native_bf16() else "float32"
