import numpy as np
import pytest

from rt2.actions import ActionDim, ActionSpace, DimKind


def test_presets_have_the_papers_dimensions():
    rt2 = ActionSpace.preset("rt2")
    assert rt2.names == ("terminate", "dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper")
    assert rt2.kinds[0] == DimKind.TERMINATE and rt2.kinds[-1] == DimKind.GRIPPER
    rt1 = ActionSpace.preset("rt1")
    assert rt1.size == 11 and rt1.dims[-1].kind == DimKind.MODE and rt1.dims[-1].num_values == 3
    lt = ActionSpace.preset("language_table")
    assert lt.names == ("dx", "dy")
    assert ActionSpace.preset("language_table", terminate=True).names == ("terminate", "dx", "dy")


def test_unknown_preset_suggests_closest():
    with pytest.raises(KeyError, match="did you mean 'rt2'"):
        ActionSpace.preset("rt3")


def test_bad_dims_are_named():
    with pytest.raises(ValueError, match=r"'dx'.*low < high"):
        ActionDim("dx", low=1.0, high=-1.0)
    with pytest.raises(ValueError, match="duplicate dimension names"):
        ActionSpace((ActionDim("a"), ActionDim("a")))
    with pytest.raises(ValueError, match="num_values"):
        ActionDim("m", DimKind.MODE)


def test_with_stats_and_round_trip_dict():
    space = ActionSpace.preset("rt2")
    stats = {"q01": np.full(8, -0.01), "q99": np.full(8, 0.02)}
    tight = space.with_stats(stats)
    assert tight.low[1] == -0.01 and tight.high[1] == 0.02
    assert tight.low[0] == 0.0 and tight.high[0] == 1.0  # terminate keeps its bounds
    assert ActionSpace.from_dict(tight.to_dict()) == tight
    with pytest.raises(KeyError, match="q99"):
        space.with_stats({"q01": np.zeros(8)})


def test_validate_rejects_wrong_shape_and_nan():
    space = ActionSpace.preset("language_table")
    with pytest.raises(ValueError, match="2 dims"):
        space.validate(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        space.validate(np.array([np.nan, 0.0]))
