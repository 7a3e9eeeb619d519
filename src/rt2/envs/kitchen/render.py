"""Headless MuJoCo rendering: one GL context per renderer, a new MjrContext per model.

``mujoco.Renderer`` builds a GL context on every construction (~0.1 s); the kitchen rebuilds its
model each episode, so this keeps the context and only swaps the model's render context.
"""

from __future__ import annotations

import contextlib

import mujoco
import numpy as np


class KitchenRenderer:
    """Renders camera ``camera`` of the current model into (size, size, 3) uint8 RGB."""

    def __init__(self, size: int, camera: str = "front") -> None:
        from mujoco import gl_context

        if not (isinstance(size, int) and size >= 8):
            raise ValueError(f"size: expected an int >= 8, got {size!r}")
        self.size, self.camera = size, camera
        self._gl = gl_context.GLContext(max(size, 64), max(size, 64))
        self._ctx: mujoco.MjrContext | None = None
        self._scene: mujoco.MjvScene | None = None
        self._model: mujoco.MjModel | None = None
        self._opt = mujoco.MjvOption()
        self._cam = mujoco.MjvCamera()
        self._rect = mujoco.MjrRect(0, 0, size, size)
        self._buf = np.empty((size, size, 3), dtype=np.uint8)

    def bind(self, model: mujoco.MjModel) -> None:
        """Use ``model`` from now on (frees the previous model's render context)."""
        self._gl.make_current()
        if self._ctx is not None:
            self._ctx.free()
        self._model = model
        self._scene = mujoco.MjvScene(model, maxgeom=400)
        self._ctx = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_50.value)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._ctx)
        self._cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._cam.fixedcamid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, self.camera)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """The current frame, (size, size, 3) uint8, top row first."""
        if self._model is None or self._scene is None:
            raise RuntimeError("bind(model) before render()")
        self._gl.make_current()
        mujoco.mjv_updateScene(
            self._model, data, self._opt, None, self._cam, mujoco.mjtCatBit.mjCAT_ALL, self._scene
        )
        mujoco.mjr_render(self._rect, self._scene, self._ctx)
        mujoco.mjr_readPixels(self._buf, None, self._rect, self._ctx)
        return np.flipud(self._buf).copy()

    def close(self) -> None:
        """Free the GL resources (safe to call twice)."""
        if self._ctx is not None:
            self._gl.make_current()
            self._ctx.free()
            self._ctx = None
        if self._gl is not None:
            self._gl.free()
            self._gl = None  # type: ignore[assignment]

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
