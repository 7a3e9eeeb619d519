"""``rt2/Kitchen-v0``: a 3-D MuJoCo kitchen with RT-2's 8-dim action space (see :mod:`.env`).

Importing this package picks a headless OpenGL backend for MuJoCo before it is imported: EGL
(Mesa llvmpipe on CPU machines) if ``libEGL`` is found, else OSMesa; ``MUJOCO_GL`` set by the
user is respected.
"""

from __future__ import annotations

import ctypes.util
import os


def _pick_gl() -> str:
    if ctypes.util.find_library("EGL"):
        return "egl"
    if ctypes.util.find_library("OSMesa"):
        return "osmesa"
    return "egl"


if "MUJOCO_GL" not in os.environ:
    os.environ["MUJOCO_GL"] = _pick_gl()
    if os.environ["MUJOCO_GL"] == "osmesa":
        os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

from rt2.envs.kitchen.env import KITCHEN_STATE_NAMES, KitchenEnv  # noqa: E402
from rt2.envs.kitchen.expert import KitchenExpert  # noqa: E402
from rt2.envs.kitchen.tasks import SKILLS  # noqa: E402

KITCHEN_ENV_ID = "rt2/Kitchen-v0"

__all__ = ["KITCHEN_ENV_ID", "KITCHEN_STATE_NAMES", "SKILLS", "KitchenEnv", "KitchenExpert"]
