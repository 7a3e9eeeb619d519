"""Glue the tabletop and kitchen Gymnasium envs share: argument checks, spaces, action checks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rt2.actions import ActionSpace


def check_env_args(
    image_size: object, max_steps: object, render_mode: object, render_size: object = None
) -> None:
    """Raise ValueError for a bad constructor argument (``render_size`` only checked if given)."""
    if not (isinstance(image_size, int) and 16 <= image_size <= 1024):
        raise ValueError(f"image_size: expected an int in 16..1024, got {image_size!r}")
    if render_size is not None and not (isinstance(render_size, int) and 16 <= render_size <= 2048):
        raise ValueError(f"render_size: expected an int in 16..2048, got {render_size!r}")
    if not (isinstance(max_steps, int) and max_steps > 0):
        raise ValueError(f"max_steps: expected a positive int, got {max_steps!r}")
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"render_mode: expected None or 'rgb_array', got {render_mode!r}")


def action_box(spec: ActionSpace) -> gym.spaces.Box:
    """float32 Box over the action space's bounds."""
    return gym.spaces.Box(
        spec.low.astype(np.float32), spec.high.astype(np.float32), dtype=np.float32
    )


def observation_space(image_size: int, state_dim: int, charset: frozenset[str]) -> gym.spaces.Dict:
    """``image`` uint8 (S, S, 3), ``instruction`` text and ``state`` float32 (state_dim,)."""
    return gym.spaces.Dict(
        {
            "image": gym.spaces.Box(0, 255, (image_size, image_size, 3), np.uint8),
            "instruction": gym.spaces.Text(max_length=512, min_length=0, charset=charset),
            "state": gym.spaces.Box(-1.0, 1.0, (state_dim,), np.float32),
        }
    )


def check_action(spec: ActionSpace, action: np.ndarray) -> np.ndarray:
    """``action`` as a flat float64 array of the space's size; ValueError if not finite."""
    a = np.asarray(action, dtype=np.float64).reshape(-1)
    if a.shape != (spec.size,):
        raise ValueError(
            f"action: expected shape ({spec.size},) for dims {spec.names}, got {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError(f"action: expected finite values, got {a}")
    return a
