"""Golden test: every shipped checkpoint (``rt2:NAME``) acts as it did before the issue-28
restructuring (``tests/fixtures/shipped_records.json``, written by the code of commit b5b7b96
with ``tests/fixtures/shipped_records.py``, which documents how).

The evaluation runs in a fresh interpreter (one thread, fp32), as the fixture was written: in
the suite's shared processes other tests' global state changed the actions. Compared: each
episode's task (drawn from the seed) and every action of the first policy call (the same
observations for old and new code). Later calls are not compared: in closed loop one action
that flips between two bins on a near tie (another CPU kind's fp32 kernels) changes every
observation after it."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"
GOLDEN = json.loads((FIXTURES / "shipped_records.json").read_text())
TASK_FIELDS = ("suite", "index", "seed", "task_id", "instruction")


def _generator():
    spec = importlib.util.spec_from_file_location(
        "shipped_records", FIXTURES / "shipped_records.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("golden") / "records.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, str(FIXTURES / "shipped_records.py"), str(out)], check=True, env=env
    )
    return json.loads(out.read_text())


def test_the_fixture_covers_every_shipped_checkpoint():
    from rt2.weights import resolve

    weights = resolve("rt2:tiny-vla").parent
    shipped = {p.name for p in weights.iterdir() if (p / "config.json").exists()}
    assert set(GOLDEN["checkpoints"]) == shipped
    assert GOLDEN["eval"] == _generator().EVAL


@pytest.mark.slow
def test_every_shipped_checkpoint_acts_as_before_the_restructuring(records):
    assert records["eval"] == GOLDEN["eval"]
    for name, want in GOLDEN["checkpoints"].items():
        got = records["checkpoints"][name]
        tasks = [[e[k] for k in TASK_FIELDS] for e in got["episodes"]]
        assert tasks == [[e[k] for k in TASK_FIELDS] for e in want["episodes"]], name
        assert got["actions"][0] == want["actions"][0], name
