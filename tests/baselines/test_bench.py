"""``rt2 bench --models rt1`` rows: parameter count, latency, Hz, training samples/s."""

import pytest

from rt2.bench import BenchCase, bench_inference, bench_training, build_case, default_cases


def test_rt1_cases_are_listed():
    cases = default_cases((1, 4), models=("rt1",))
    assert {(c.model, c.precision, c.batch) for c in cases} == {
        ("rt1", p, b) for p in ("float32", "bfloat16") for b in (1, 4)
    }
    # the shipped configuration: the tabletop's 2 dims, the preset's 21 bins, one pass
    assert {(c.space, c.decoding) for c in cases} == {("language_table", "one-pass")}
    model = build_case(cases[0])
    assert model.action_tokenizer.num_bins == 21 and model.action_space.size == 2


@pytest.mark.slow
def test_rt1_bench_row_and_training_speed():
    case = BenchCase("rt1", "classes", "bfloat16", 2, space="language_table")
    row = bench_inference(case, build_case, repeats=1)
    assert 5e6 < row.params < 30e6  # the rt1-tabletop sizes
    assert row.total_ms > 0 and row.vision_ms > 0 and row.prefill_ms > 0 and row.hz > 0
    assert bench_training(build_case, BenchCase("rt1", "classes", "bfloat16", 2), steps=1) > 0
