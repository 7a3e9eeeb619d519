"""Checks on the observation dicts that policies receive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def require_keys(
    observations: Sequence[dict[str, Any]], keys: Sequence[str] = ("image", "instruction")
) -> None:
    """KeyError naming the first observation that lacks one of ``keys``."""
    for key in keys:
        missing = [i for i, o in enumerate(observations) if key not in o]
        if missing:
            raise KeyError(
                f"observation {missing[0]} has no {key!r}; got keys {sorted(observations[missing[0]])}"
            )


def camera_mismatch(want: Sequence[str], names: Sequence[str]) -> str | None:
    """None if the observation's camera ``names`` are the policy's ``want`` (any order), else
    what differs: "the observation has [...] (missing [...], extra [...])"."""
    if sorted(names) == sorted(want):
        return None
    missing = [c for c in want if c not in names]
    extra = [c for c in names if c not in want]
    return f"the observation has {list(names)} (missing {missing}, extra {extra})"


def camera_views(obs: dict[str, Any], cameras: Sequence[str]) -> np.ndarray:
    """The image(s) a policy that sees ``cameras`` acts on: (H, W, 3) for one camera, else
    (C, H, W, 3) in ``cameras`` order. ``obs["images"]`` maps camera names to images (every
    camera, no other); ``obs["image"]`` serves a one-camera policy. A ValueError names both
    lists when they differ."""
    if "images" in obs:
        given = obs["images"]
        if not isinstance(given, dict):
            raise ValueError(
                f"'images' must map camera names to images, got {type(given).__name__}"
            )
        names = [str(k) for k in given]
        want = list(cameras) if cameras else names[:1]
        if (mismatch := camera_mismatch(want, names)) is not None:
            raise ValueError(f"the policy sees cameras {want}; {mismatch}")
        views = [np.asarray(given[c]) for c in want]
    elif "image" in obs:
        if len(cameras) > 1:
            raise ValueError(
                f"the policy sees cameras {list(cameras)}; the observation has one unnamed "
                "'image' (send 'images': {camera name: image})"
            )
        return np.asarray(obs["image"])  # checked where it is preprocessed, as before
    else:
        raise KeyError(f"the observation has no 'image' or 'images'; got keys {sorted(obs)}")
    for name, v in zip(want, views, strict=True):
        if v.dtype != np.uint8 or v.ndim != 3 or v.shape[-1] != 3:
            raise ValueError(f"camera {name!r}: expected uint8 (H, W, 3), got {v.dtype} {v.shape}")
    return views[0] if len(views) == 1 else _same_size(views)


def _same_size(views: list[np.ndarray]) -> np.ndarray:
    """(C, H, W, 3): views resized to the first one's size where they differ."""
    h, w = views[0].shape[:2]
    if any(v.shape[:2] != (h, w) for v in views):
        import cv2

        views = [v if v.shape[:2] == (h, w) else cv2.resize(v, (w, h)) for v in views]
    return np.stack(views)
