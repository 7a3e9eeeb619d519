"""Layering: the RT-1 baseline builds on the shared pieces, never on the modules that dispatch to
it (``rt2.training.factory`` builds RT-1, ``rt2.bench`` times it, ``rt2.policies`` acts with it),
so every one of them imports first in a fresh interpreter (no import cycle)."""

import json
import subprocess
import sys

import pytest

DISPATCHERS = ("rt2.training.factory", "rt2.bench", "rt2.policies")


def _fresh_import(module: str) -> list[str]:
    """The rt2 modules a fresh interpreter holds after importing ``module`` first."""
    code = (
        f"import json, sys; import {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rt2'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_rt1_loads_none_of_the_modules_that_dispatch_to_it():
    loaded = _fresh_import("rt2.baselines.rt1")
    assert "rt2.baselines.rt1.model" in loaded
    assert not [m for m in loaded if m.startswith(DISPATCHERS)], loaded


@pytest.mark.parametrize("module", ["rt2.bench.rt1", "rt2.policies.rt1"])
def test_the_rt1_bench_and_policy_import_first(module: str):
    loaded = _fresh_import(module)
    assert module in loaded and "rt2.baselines.rt1.model" in loaded
