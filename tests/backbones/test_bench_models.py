import pytest

from rt2.bench import default_cases, default_models


def test_bench_cases_per_model():
    cases = default_cases((1, 4), ("tiny", "rt2-mini"))
    mini = [c for c in cases if c.model == "rt2-mini"]
    ar = "autoregressive"
    assert {(c.space, c.mapping, c.precision, c.batch, c.decoding, c.chunk) for c in mini} == {
        ("rt2", m, p, 1, ar, 1) for m in ("reserved", "integers") for p in ("bfloat16", "int8")
    } | {("language_table", "reserved", p, 1, ar, 1) for p in ("bfloat16", "int8")} | {
        ("rt2", "reserved", p, b, "parallel", k)
        for p in ("bfloat16", "int8")
        for b in (1, 4)
        for k in (1, 8)
    }
    assert len([c for c in cases if c.model == "tiny"]) == 8
    assert default_models()[0] == "tiny"
    with pytest.raises(KeyError, match="unknown bench model 'big'"):
        default_cases((1,), ("big",))


def test_preset_samples_follow_the_presets_mix_and_the_cli_times_them(capsys, monkeypatch):
    """``rt2 bench --presets``: samples shaped as the preset trains on (its robot share, plans in
    its cell code, action chunks, its web items), timed through the preset's own model."""
    from dataclasses import replace

    import numpy as np

    from rt2.bench import bench_preset_training, preset_samples
    from rt2.cli import main
    from rt2.samples import RobotSample, TextSample
    from rt2.training.presets import get_preset

    config = get_preset("tiny-ecot")  # robot 0.6, plans on 32 cells, one action per sample
    config = replace(config, data=replace(config.data, plan_code="letters"))
    samples = preset_samples(config, 200, seed=1)
    robot = [s for s in samples if isinstance(s, RobotSample)]
    web = [s for s in samples if isinstance(s, TextSample)]
    assert 0.5 < len(robot) / 200 < 0.7 and len(robot) + len(web) == 200
    plan = config.data.plan_format()
    assert all(plan.parse(s.plan) is not None for s in robot)
    assert all(np.shape(s.action) == (2,) for s in robot)  # language_table, no chunk
    row = bench_preset_training(replace(config, optim=replace(config.optim, batch_size=4)), 1)
    assert row["batch"] == 4 and row["samples_per_s"] > 0 and row["tokens_per_sample"] > 16
    # the command's table (timings stubbed: a real row is timed above)
    speeds = {"tiny-ecot": 8.0, "tiny-scratch": 2.0}
    monkeypatch.setattr(
        "rt2.bench.tables.bench_preset_training",
        lambda name: {"samples_per_s": speeds[name], "tokens_per_sample": 50.0, "batch": 32},
    )
    assert main(["bench", "--presets", "tiny-ecot,tiny-scratch"]) == 0
    out = capsys.readouterr().out
    assert "training presets" in out and "1.00x" in out and "0.25x" in out
    assert "observation -> action" not in out  # --presets alone times only the presets
