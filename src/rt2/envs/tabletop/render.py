"""Top-down OpenCV renderer with a per-episode cached background.

Per episode (``build``): floor, table border, table texture and printed marks are drawn once into
a canvas, warped by the camera jitter and lit; object polygons are pre-lit and pre-stacked. Per
frame (``draw``): copy the background, transform each object's polygons with one matrix product
and fill them (anti-aliased, sub-pixel precision).
"""

from __future__ import annotations

import cv2
import numpy as np

from rt2.envs.scenery import floor_texture, table_texture
from rt2.envs.tabletop.catalogue import get_object
from rt2.envs.tabletop.drawing import draw_mark, object_layers
from rt2.envs.tabletop.physics import EFFECTOR_RADIUS
from rt2.envs.tabletop.scene import Scene

VIEW_MARGIN = 0.025  # metres of floor visible left and right of the table


def table_to_image(xy: np.ndarray, width: float = 0.6, height: float = 0.4) -> np.ndarray:
    """(..., 2) positions in table half-extents ([-1, 1] per axis) -> (..., 2) image positions
    (u rightwards, v downwards, in [0, 1]) in the top-down view of a ``width`` x ``height`` m
    table, as :meth:`Renderer.build` frames it before any camera jitter (``Scene.look``)."""
    xy = np.asarray(xy, dtype=np.float64)
    view = width + 2 * VIEW_MARGIN  # the square image spans the table's width and the margins
    return np.stack(
        [0.5 + xy[..., 0] * width / 2 / view, 0.5 - xy[..., 1] * height / 2 / view], axis=-1
    )


ARM_WIDTH = 0.008  # metres: the drawn robot arm reaching the effector from the far edge
_SHIFT = 4  # fixed-point bits for sub-pixel polygon vertices
_ONE = 1 << _SHIFT


class Renderer:
    """Draws scenes at ``size`` x ``size`` pixels (RGB uint8)."""

    def __init__(self, size: int) -> None:
        if size < 16:
            raise ValueError(f"Renderer.size: expected >= 16 px, got {size}")
        self.size = size
        self.background: np.ndarray | None = None  # (S, S, 3) uint8
        self._affine = np.eye(3)[:2]
        self._verts: list[np.ndarray] = []  # per object (K, 2) local vertices
        self._splits: list[list[int]] = []
        self._colours: list[list[tuple[int, int, int]]] = []
        self._eff: tuple[tuple[int, int, int], tuple[int, int, int]] = (
            (50, 50, 55),
            (150, 150, 160),
        )

    # ---- per episode ----------------------------------------------------------------------
    def build(self, scene: Scene) -> None:
        """Cache the static background and the object drawing data for ``scene``."""
        n, env, look = self.size, scene.environment, scene.look
        s = n / (env.width + 2 * VIEW_MARGIN)
        base = np.array([[s, 0.0, n / 2], [0.0, -s, n / 2], [0.0, 0.0, 1.0]])  # world -> canvas px
        jitter = cv2.getRotationMatrix2D((n / 2, n / 2), look.rotation, look.scale)
        jitter[:, 2] += np.array(look.shift) * n
        self._affine = (np.vstack([jitter, [0, 0, 1]]) @ base)[:2]  # (2, 3) world -> image px
        base = base.copy()

        seed = scene.texture_seed
        pad = n // 5 if look.rotation != 0 or look.scale != 1 or look.shift != (0.0, 0.0) else 0
        base[:2, 2] += pad  # canvas has real floor around the view for the camera jitter
        canvas = floor_texture(env.floor, seed + 1, n + 2 * pad, n + 2 * pad)
        hx, hy = env.width / 2, env.height / 2
        b = env.border_width
        x0, y0 = (base @ [-hx - b, hy + b, 1])[:2]
        x1, y1 = (base @ [hx + b, -hy - b, 1])[:2]
        cv2.rectangle(canvas, (round(x0), round(y0)), (round(x1), round(y1)), env.border, -1)
        tx0, ty0 = (base @ [-hx, hy, 1])[:2]
        tx1, ty1 = (base @ [hx, -hy, 1])[:2]
        c0, r0, c1, r1 = round(tx0), round(ty0), round(tx1), round(ty1)
        canvas[r0:r1, c0:c1] = table_texture(scene.background, seed, r1 - r0, c1 - c0)
        for m in scene.marks:
            entry = get_object(m.name)
            cx, cy = (base @ [m.pos[0], m.pos[1], 1])[:2]
            draw_mark(canvas, entry, (cx, cy), entry.radius * s)
        if pad:
            unpad = np.array([[1.0, 0.0, -pad], [0.0, 1.0, -pad], [0.0, 0.0, 1.0]])
            warp = (np.vstack([jitter, [0, 0, 1]]) @ unpad)[:2]
            canvas = cv2.warpAffine(
                canvas, warp, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        gain = np.array(look.tint, np.float32) * look.brightness  # (3,)
        self._gain = gain
        self.background = np.clip(canvas.astype(np.float32) * gain, 0, 255).astype(np.uint8)

        self._verts, self._splits, self._colours = [], [], []
        for placed in scene.objects:
            layers = object_layers(get_object(placed.name))
            self._verts.append(np.concatenate([p for p, _ in layers]))
            self._splits.append(list(np.cumsum([len(p) for p, _ in layers])[:-1]))
            self._colours.append([self._lit(c) for _, c in layers])
        self._eff = (self._lit((50, 50, 55)), self._lit((150, 150, 160)))
        self._px_per_m = s * look.scale
        # the robot's base sits beyond the far (top) edge; its arm reaches to the effector
        self._arm_base = np.array([0.0, hy + VIEW_MARGIN + env.border_width])

    def _lit(self, rgb: tuple[int, int, int]) -> tuple[int, int, int]:
        g = self._gain
        return (
            min(255, int(rgb[0] * g[0])),
            min(255, int(rgb[1] * g[1])),
            min(255, int(rgb[2] * g[2])),
        )

    # ---- per frame ------------------------------------------------------------------------
    def draw(self, positions: np.ndarray, angles: np.ndarray, effector: np.ndarray) -> np.ndarray:
        """(S, S, 3) uint8 frame for object ``positions`` (N, 2), ``angles`` (N,), ``effector`` (2,)."""
        if self.background is None:
            raise RuntimeError("Renderer.draw called before build(scene)")
        img = self.background.copy()
        a = self._affine * _ONE  # (2, 3), fixed point
        lin, off = a[:, :2], a[:, 2]
        for verts, splits, cols, pos, ang in zip(
            self._verts, self._splits, self._colours, positions, angles, strict=True
        ):
            c, s = np.cos(ang), np.sin(ang)
            m = lin @ np.array([[c, -s], [s, c]])  # (2, 2) local -> fixed-point px
            px = (verts @ m.T + (lin @ pos + off)).astype(np.int32)  # (K, 2)
            for poly, col in zip(np.split(px, splits), cols, strict=True):
                cv2.fillPoly(img, [poly], col, cv2.LINE_AA, _SHIFT)
        e = (lin @ effector + off).astype(np.int32)
        # drawn larger than its collider so that it stays visible in small observations
        r = self._px_per_m * EFFECTOR_RADIUS * 1.7 * _ONE
        centre = (int(e[0]), int(e[1]))
        base = (lin @ self._arm_base + off).astype(np.int32)
        width = max(1, round(self._px_per_m * ARM_WIDTH))
        cv2.line(
            img, (int(base[0]), int(base[1])), centre, self._eff[0], width, cv2.LINE_AA, _SHIFT
        )
        cv2.circle(img, centre, int(r), self._eff[0], -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(img, centre, int(r * 0.55), self._eff[1], -1, cv2.LINE_AA, _SHIFT)
        return img

    def world_to_pixel(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) metres -> (..., 2) image pixels (float)."""
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ self._affine[:, :2].T + self._affine[:, 2]
