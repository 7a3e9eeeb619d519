"""Golden test: every shipped checkpoint (``rt2:NAME``) evaluates to the records and actions it
gave before the issue-28 restructuring (``tests/fixtures/shipped_records.json``, written by the
code of commit b5b7b96 with ``tests/fixtures/shipped_records.py``, which documents how)."""

import importlib.util
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "shipped_records", FIXTURES / "shipped_records.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOLDEN = json.loads((FIXTURES / "shipped_records.json").read_text())


def test_the_fixture_covers_every_shipped_checkpoint():
    from rt2.weights import resolve

    weights = resolve("rt2:tiny-vla").parent
    shipped = {p.name for p in weights.iterdir() if (p / "config.json").exists()}
    assert set(GOLDEN["checkpoints"]) == shipped
    assert GOLDEN["eval"] == _generator().EVAL


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GOLDEN["checkpoints"]))
def test_a_shipped_checkpoint_evaluates_as_before_the_restructuring(name):
    got = _generator().checkpoint_records(name)
    want = GOLDEN["checkpoints"][name]
    assert got["episodes"] == want["episodes"]
    assert got["actions"] == want["actions"]
