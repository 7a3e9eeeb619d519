import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rt2.actions import ActionParseError, ActionSpace, ActionTokenizer

SPACES = {name: ActionSpace.preset(name) for name in ("rt2", "rt1", "language_table")}


@st.composite
def in_range_actions(draw, space_name: str):
    space = SPACES[space_name]
    values = []
    for d in space.dims:
        if d.is_discrete:
            values.append(float(draw(st.integers(0, int(d.high)))))
        else:
            values.append(draw(st.floats(d.low, d.high, allow_nan=False)))
    return np.array(values)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SPACES)), st.data(), st.sampled_from([2, 21, 256]))
def test_decode_encode_within_half_a_bin(name, data, num_bins):
    tok = ActionTokenizer(SPACES[name], num_bins)
    a = data.draw(in_range_actions(name))
    back = tok.decode(tok.encode(a))
    assert np.all(np.abs(back - a) <= tok.bin_width() / 2 + 1e-9)
    assert tok.clip_counts.sum() == 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SPACES)), st.data())
def test_parse_format_round_trip(name, data):
    tok = ActionTokenizer(SPACES[name])
    bins = np.array([data.draw(st.integers(0, int(n) - 1)) for n in tok.num_values])
    text = tok.format(bins)
    assert np.array_equal(tok.parse(text), bins)
    assert np.array_equal(tok.encode(tok.decode(bins)), bins)


@given(arrays(np.float64, (5, 2), elements=st.floats(-10, 10)))
def test_out_of_range_is_clipped_and_counted(actions):
    tok = ActionTokenizer(SPACES["language_table"])
    bins = tok.encode(actions)
    assert bins.min() >= 0 and bins.max() <= 255
    expected = ((actions < -0.05) | (actions > 0.05)).sum(axis=0)
    assert np.array_equal(tok.clip_counts, expected)


def test_rt2_string_looks_like_the_paper():
    tok = ActionTokenizer(SPACES["rt2"])
    a = np.array([1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    assert tok.format(tok.encode(a)) == "1 128 128 128 128 128 128 255"


def test_stats_bounds():
    space = SPACES["language_table"]
    actions = np.random.default_rng(0).normal(0, 0.01, size=(1000, 2))
    stats = {"q01": np.quantile(actions, 0.01, 0), "q99": np.quantile(actions, 0.99, 0)}
    tok = ActionTokenizer.from_stats(space, stats)
    tok.encode(actions)
    assert 0 < tok.clip_counts.sum() <= 0.03 * actions.size  # ~2% outside q01..q99
    assert ActionTokenizer.from_dict(tok.to_dict()).space == tok.space


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 128 91", "expected 8 values"),
        ("1 128 91 241 5 101 127 12x", r"value 7 \(gripper\) is '12x'"),
        ("2 128 91 241 5 101 127 0", r"value 0 \(terminate\) is 2, outside 0..1"),
        ("1 128 91 241 5 101 256 0", "outside 0..255"),
        ("1 -3 91 241 5 101 127 0", "not a non-negative integer"),
        ("", "got 0"),
    ],
)
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(ActionParseError, match=message):
        ActionTokenizer(SPACES["rt2"]).parse(text)


def test_decode_rejects_out_of_range_bins():
    tok = ActionTokenizer(SPACES["rt2"])
    with pytest.raises(ValueError, match="'terminate'"):
        tok.decode(np.array([2, 0, 0, 0, 0, 0, 0, 0]))
