"""Wilson score interval math, the Rate every report counts with, the one table writer."""

from __future__ import annotations

import json
import math

import pytest

from rt2.evaluation.rates import wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.27753),  # textbook values (z = 1.96)
        (10, 10, 0.72247, 1.0),
        (5, 10, 0.23659, 0.76341),
        (1, 20, 0.00889, 0.23613),
    ],
)
def test_known_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_properties() -> None:
    for n in (1, 7, 50, 400):
        for k in range(n + 1):
            lo, hi = wilson_interval(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0
            lo2, hi2 = wilson_interval(n - k, n)  # symmetry
            assert lo == pytest.approx(1 - hi2, abs=1e-12) and hi == pytest.approx(
                1 - lo2, abs=1e-12
            )
    # more trials -> narrower interval at the same rate
    w = [math.fsum((-a, b)) for a, b in (wilson_interval(n // 2, n) for n in (10, 100, 1000))]
    assert w[0] > w[1] > w[2]
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_rejects_bad_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(k, n)


def test_a_rate_counts_episodes_and_formats_one_way() -> None:
    from types import SimpleNamespace

    from rt2.evaluation.rates import Rate, cell

    episodes = [SimpleNamespace(success=s, steps=n) for s, n in ((True, 4), (False, 8), (True, 6))]
    r = Rate.of(episodes)  # type: ignore[arg-type]
    assert (r.n, r.successes, r.mean_steps, r.chance) == (3, 2, 6.0, None)
    assert r.rate == pytest.approx(2 / 3) and (r.low, r.high) == wilson_interval(2, 3)
    lo, hi = wilson_interval(2, 3)
    assert cell(r) == f"67 [{100 * lo:.0f}, {100 * hi:.0f}]" == "67 [21, 94]"
    assert cell(r, 1, percent=True) == "66.7% [20.8, 93.9]"
    assert cell(None) == "-" and cell(Rate(0, 0)) == "-"
    with pytest.raises(AttributeError):
        r.n = 4  # type: ignore[misc]  # frozen


def test_rates_serialize_to_the_keys_reports_always_had() -> None:
    from rt2.evaluation.rates import Rate, jsonable

    d = Rate(4, 1, chance=0.25).to_dict()
    assert d == {"n": 4, "successes": 1, "success_rate": 0.25, "ci95_low": wilson_interval(1, 4)[0],
                 "ci95_high": wilson_interval(1, 4)[1], "chance": 0.25}  # fmt: skip
    nested = {"a": [Rate(2, 2), None], "b": {"c": Rate(1, 0, 3.0)}, "d": (1, "x")}
    out = jsonable(nested)
    assert out["a"][0]["success_rate"] == 1.0 and out["a"][1] is None
    assert out["b"]["c"] == Rate(1, 0, 3.0).to_dict() and out["d"] == [1, "x"]
    assert json.loads(json.dumps(out)) == out


def test_the_markdown_table_writer() -> None:
    from rt2.evaluation.markdown import markdown_table

    lines = markdown_table(["suite", "n", "success"], [["seen", "5", "40 [12, 77]"]], right={1})
    assert lines == [
        "| suite | n | success |",
        "|---|---:|---|",
        "| seen | 5 | 40 [12, 77] |",
        "",
    ]
