"""Codec compatibility with openpi's msgpack_numpy and the json_numpy package, and strictness."""

from __future__ import annotations

import json_numpy
import numpy as np
import pytest
from openpi_client import msgpack_numpy

from rt2.serving.protocol import (
    RequestError,
    json_dumps,
    json_loads,
    packb,
    parse_control,
    unpackb,
    validate_observation,
)

ARRAYS = [
    np.arange(12, dtype=np.uint8).reshape(2, 2, 3),
    np.linspace(-1, 1, 7, dtype=np.float32),
    np.array([[1, -2]], dtype=np.int64),
    np.array([True, False]),
    np.zeros((0, 3), np.float64),
]


@pytest.mark.parametrize("arr", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_msgpack_round_trips_with_openpi(arr: np.ndarray) -> None:
    msg = {"x": arr, "s": np.float32(1.5), "n": "text"}
    for encode, decode in ((packb, msgpack_numpy.unpackb), (msgpack_numpy.packb, unpackb)):
        out = decode(encode(msg))
        np.testing.assert_array_equal(out["x"], arr)
        assert out["x"].dtype == arr.dtype and out["x"].shape == arr.shape
        assert out["s"] == np.float32(1.5) and out["n"] == "text"


@pytest.mark.parametrize("arr", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_json_round_trips_with_json_numpy(arr: np.ndarray) -> None:
    for encode, decode in ((json_dumps, json_numpy.loads), (json_numpy.dumps, json_loads)):
        out = decode(encode({"x": arr}))["x"]
        np.testing.assert_array_equal(out, arr)
        assert out.dtype == arr.dtype and out.shape == arr.shape


def test_validation_copies_and_converts() -> None:
    image = np.zeros((16, 24, 3), np.uint8)
    image.flags.writeable = False
    obs = validate_observation({"image": image, b"instruction": b"go", "state": [1, 2.5]})
    assert obs["image"].flags.writeable and obs["image"].shape == (16, 24, 3)
    assert obs["instruction"] == "go" and obs["state"].dtype == np.float32
    with pytest.raises(RequestError, match="instruction: bytes that are not UTF-8"):
        validate_observation({"image": image, "instruction": b"\xff\xfe"})


def test_control_messages() -> None:
    assert parse_control({"__control__": "reset", "seed": np.int64(3)}) == ("reset", 3)
    for bad, match in (
        ({"__control__": "reset", "seed": -1}, "seed must be an int >= 0"),
        ({"__control__": "reset", "extra": 1}, "unknown field"),
        ({"__control__": "stop"}, "expected one of"),
    ):
        with pytest.raises(RequestError, match=match):
            parse_control(bad)


def test_unpackb_refuses_deep_nesting_without_crashing() -> None:
    deep = b"\x91" * 100_000 + b"\xc0"  # 100k nested one-element arrays
    with pytest.raises(RequestError, match="not valid msgpack"):
        unpackb(deep)
