import numpy as np
import pytest

from rt2.data.mixture import ListSource, Mixture
from rt2.samples import TextSample


def sources():
    return {
        "robot": ListSource([TextSample(None, f"r{i}", "a") for i in range(50)]),
        "web": ListSource([TextSample(None, f"w{i}", "a") for i in range(70)]),
    }


def test_batch_counts_follow_the_weights_exactly():
    mix = Mixture(sources(), {"robot": 0.5, "web": 0.5}, seed=0)
    for step in range(20):
        samples, counts = mix.batch(step, 32)
        assert counts == {"robot": 16, "web": 16}
        assert sum(s.prompt.startswith("r") for s in samples) == 16
    mix = Mixture(sources(), {"robot": 2, "web": 1}, seed=0)  # weights are normalised
    totals = np.zeros(2)
    for step in range(300):
        _, counts = mix.batch(step, 10)
        assert sum(counts.values()) == 10 and counts["robot"] in (6, 7)
        totals += [counts["robot"], counts["web"]]
    assert abs(totals[0] / totals.sum() - 2 / 3) < 0.01


def test_mixture_is_deterministic_per_seed_and_step():
    a = Mixture(sources(), {"robot": 0.5, "web": 0.5}, seed=1)
    b = Mixture(sources(), {"robot": 0.5, "web": 0.5}, seed=1)
    c = Mixture(sources(), {"robot": 0.5, "web": 0.5}, seed=2)
    prompts = lambda m, step: [s.prompt for s in m.batch(step, 16)[0]]  # noqa: E731
    assert prompts(a, 5) == prompts(b, 5)  # same seed and step: same batch, in any order of calls
    assert prompts(a, 5) != prompts(c, 5)
    assert prompts(a, 5) != prompts(a, 6)


def test_single_source_special_cases():
    robot_only = Mixture(sources(), {"robot": 1.0, "web": 0.0})
    samples, counts = robot_only.batch(0, 8)
    assert counts == {"robot": 8} and all(s.prompt.startswith("r") for s in samples)
    web_only = Mixture(sources(), {"web": 1.0})
    assert web_only.batch(0, 8)[1] == {"web": 8}


def test_mixture_errors_name_the_source():
    with pytest.raises(KeyError, match=r"\['extra'\]"):
        Mixture(sources(), {"robot": 0.5, "extra": 0.5})
    with pytest.raises(ValueError, match="positive weight"):
        Mixture(sources(), {"robot": 0.0})
    with pytest.raises(ValueError, match=r"\['robot'\] have no samples"):
        Mixture({"robot": ListSource([])}, {"robot": 1.0})
