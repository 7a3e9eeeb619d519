"""Pointing evaluation: greedy cells on held-out scenes, scored by grid distance."""

import pytest

from rt2.data.plan import PlanFormat
from rt2.data.web import WebCorpus, WebCorpusConfig
from rt2.evaluation.pointing import PointingEvalConfig, evaluate_pointing, summarize_pointing
from rt2.model import build_vla


def test_summary_counts_each_radius_and_non_cells():
    records = [{"distance": d} for d in (0, 1, 2, 3, 5, None)]
    s = summarize_pointing(records)
    assert [s[f"within_{r}"]["correct"] for r in (0, 1, 3)] == [1, 2, 4]
    assert s["not_a_cell"] == 1 and s["n"] == 6
    low, high = s["within_1"]["ci95"]
    assert low < 2 / 6 < high
    with pytest.raises(ValueError, match="no records"):
        summarize_pointing([])
    with pytest.raises(ValueError, match="code"):
        PointingEvalConfig(code="roman")


@pytest.mark.parametrize("code", ["digits", "letters"])
def test_a_model_that_always_points_at_the_centre_scores_the_centre_share(code):
    """The held-out questions come from the eval split; a model answering the centre cell every
    time is right exactly as often as a truth lies within r cells of the centre."""
    vla = build_vla("tiny", "language_table", image_size=64, patch_size=16, pool=1,
                    vision_dim=32, vision_layers=1, vision_heads=2, lm_dim=32, lm_layers=1,
                    lm_heads=2)  # fmt: skip
    grid = PlanFormat(code=code)
    centre = grid.point([0.0, 0.0])
    vla.answer = lambda images, prompts, sampling=None: [centre] * len(prompts)
    result = evaluate_pointing(vla, PointingEvalConfig(questions=40, code=code, batch_size=16))
    corpus = WebCorpus(
        WebCorpusConfig(size=40, split="eval", image_size=64, weights={"pointing": 1.0},
                        point_code=code, cache_size=0)
    )  # fmt: skip
    truths = [grid.parse_point(corpus[i].answer) for i in range(40)]
    distances = [max(abs(x - 16), abs(y - 16)) for x, y in truths]
    for r in (0, 1, 3):
        assert result["summary"][f"within_{r}"]["correct"] == sum(d <= r for d in distances)
    assert result["summary"]["not_a_cell"] == 0
    vla.answer = lambda images, prompts, sampling=None: ["the apple"] * len(prompts)
    assert (
        evaluate_pointing(vla, PointingEvalConfig(questions=8, code=code))["summary"]["not_a_cell"]
        == 8
    )
