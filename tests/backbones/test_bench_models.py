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
