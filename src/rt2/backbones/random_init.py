"""Seeded random weights for a pretrained architecture: the "from scratch" ablation's start.

RT-2's Table 6 compares a model trained from scratch with fine-tuned and co-fine-tuned ones of
the same architecture. :func:`randomize_` overwrites every parameter and normalisation statistic
of a loaded module with a draw from a ``torch.Generator`` seeded by the caller, module by module
in ``named_modules`` order, so the same seed rebuilds the same weights and a checkpoint of a
scratch model needs to store only what was trained on top of them.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

#: N(0, 0.02) for linear and embedding weights: the initializer range of Llama / SmolLM2
LINEAR_STD = 0.02


@torch.no_grad()
def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Replace ``module``'s weights in place with seeded random ones and return it.

    Linear / embedding weights ~ N(0, 0.02); convolutions ~ N(0, 2 / fan_in) (He); biases 0;
    BatchNorm gain 1, shift 0, running mean 0, variance 1; any other parameter (RMSNorm and
    LayerNorm gains, learned scalars) 1 when 1-D and named ``weight``, else N(0, 0.02).
    Tied parameters are drawn once.
    """
    gen = torch.Generator().manual_seed(seed)
    seen: set[int] = set()

    def fill(p: torch.Tensor, std: float | None) -> None:
        if id(p) in seen:
            return
        seen.add(id(p))
        if std is None:
            p.fill_(1.0)
        elif std == 0.0:
            p.zero_()
        else:
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * std)

    for m in module.modules():
        own = dict(m.named_parameters(recurse=False))
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels // m.groups * math.prod(m.kernel_size)
            fill(m.weight, math.sqrt(2.0 / fan_in))
        elif isinstance(m, _BatchNorm):
            if m.running_mean is not None and m.running_var is not None:
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
            if m.weight is not None:
                fill(m.weight, None)
        elif isinstance(m, (nn.Linear, nn.Embedding)):
            fill(m.weight, LINEAR_STD)
        for name, p in own.items():
            if name == "bias":
                fill(p, 0.0)
            elif p.ndim == 1 and name == "weight":
                fill(p, None)
            else:
                fill(p, LINEAR_STD)
    return module
