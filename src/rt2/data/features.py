"""What a LeRobot dataset's ``meta/info.json`` declares: vector names, cameras, state size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rt2.data.format import VISUAL_DTYPES, DatasetFormatError

STATE_KEY = "observation.state"


def vector_names(features: dict[str, dict[str, Any]], key: str) -> tuple[str, ...]:
    """Names of the entries of 1-D vector feature ``key`` (``action``, ``observation.state``).

    LeRobot writes ``names`` as a list, as ``{"motors": [...]}`` (older ports) or not at all;
    missing names become ``{key}_{i}``."""
    if key not in features:
        raise DatasetFormatError(
            f"the dataset has no {key!r} feature; features: {sorted(features)}"
        )
    feature = features[key]
    shape = list(feature.get("shape") or [])
    if len(shape) != 1 or int(shape[0]) < 1:
        raise DatasetFormatError(f"feature {key!r} must be a 1-D vector, got shape {shape}")
    size = int(shape[0])
    names = feature.get("names")
    if isinstance(names, dict):
        names = [n for part in names.values() for n in (part or [])]
    if not names:
        return tuple(f"{key}_{i}" for i in range(size))
    names = [str(n) for n in names]
    if len(names) != size:
        raise DatasetFormatError(
            f"feature {key!r} has shape [{size}] but {len(names)} names: {names}"
        )
    return tuple(names)


def camera_keys(features: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """Every image or video feature, in ``info.json`` order."""
    return tuple(k for k, f in features.items() if f.get("dtype") in VISUAL_DTYPES)


def resolve_cameras(
    features: dict[str, dict[str, Any]], requested: Sequence[str] = ()
) -> tuple[str, ...]:
    """The cameras a model sees: ``requested`` (checked against the dataset) or all of them."""
    have = camera_keys(features)
    if not have:
        raise DatasetFormatError("the dataset has no image or video feature")
    if not requested:
        return have
    missing = [c for c in requested if c not in have]
    if missing or len(set(requested)) != len(requested):
        raise ValueError(
            f"data.cameras={list(requested)}: the dataset's cameras are {list(have)}"
            + (f"; missing {missing}" if missing else "; a camera is listed twice")
        )
    return tuple(requested)
