"""Scenery: procedural table textures ("backgrounds") and rooms/tables ("environments").

A *background* is the pattern of the table top (wood, marble, cloth...). An *environment* is the
table's size and the room around it (floor pattern, table border). Both are drawn procedurally
with numpy/OpenCV from a seed, so no image files are needed.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Rgb = tuple[int, int, int]


def _noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth value noise in [0, 1], (h, w) float32."""
    small = rng.random((max(2, h // cells + 2), max(2, w // cells + 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _mix(a: Rgb, b: Rgb, t: np.ndarray) -> np.ndarray:
    """Per-pixel blend of two colours: (h, w) weights -> (h, w, 3) float32."""
    a_, b_ = np.array(a, np.float32), np.array(b, np.float32)
    return a_ + (b_ - a_) * t[..., None]


def _plain(c: Rgb) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        n = _noise(rng, h, w, 6) - 0.5
        return np.array(c, np.float32) + 10 * n[..., None]

    return f


def _wood(light: Rgb, dark: Rgb) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        warp = _noise(rng, h, w, max(4, w // 6)) * 3.0
        grain = 0.5 + 0.5 * np.sin((y * 18 + warp) * np.pi * 2)
        planks = (np.floor(np.linspace(0, 4, h))[:, None] % 2) * 0.15
        return _mix(light, dark, (grain**3 * 0.8 + planks).clip(0, 1))

    return f


def _marble(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    turb = _noise(rng, h, w, max(4, w // 5)) * 4 + _noise(rng, h, w, max(3, w // 14)) * 1.5
    vein = np.abs(np.sin((x * 3 + turb) * np.pi)) ** 0.25
    return _mix((120, 120, 128), (236, 236, 232), vein)


def _checker(a: Rgb, b: Rgb, n: int) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        cell = max(2, w // n)
        yy, xx = np.mgrid[0:h, 0:w]
        t = (((xx // cell) + (yy // cell)) % 2).astype(np.float32)
        stripes = ((xx // cell) % 2 + (yy // cell) % 2).astype(np.float32) / 2
        weave = _noise(rng, h, w, 2) * 0.15
        return _mix(a, b, (0.6 * t + 0.4 * stripes + weave).clip(0, 1))

    return f


def _cloth(c: Rgb) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        yy, xx = np.mgrid[0:h, 0:w]
        weave = ((xx + yy) % 3 == 0).astype(np.float32) * 0.12 + _noise(rng, h, w, 3) * 0.2
        return _mix(c, (255, 255, 255), weave)

    return f


def _tiles(a: Rgb, grout: Rgb, n: int) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        cell = max(3, w // n)
        yy, xx = np.mgrid[0:h, 0:w]
        line = ((xx % cell) < 1) | ((yy % cell) < 1)
        base = _mix(
            a,
            (min(a[0] + 25, 255), min(a[1] + 25, 255), min(a[2] + 25, 255)),
            _noise(rng, h, w, cell),
        )
        base[line] = grout
        return base

    return f


def _blobs(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A busy multicoloured pattern (patterned tablecloth)."""
    img = np.full((h, w, 3), (235, 225, 200), np.float32)
    pal = [(200, 60, 60), (60, 120, 200), (240, 190, 40), (60, 160, 90), (150, 80, 170)]
    for _ in range(max(12, (h * w) // 300)):
        c = pal[int(rng.integers(len(pal)))]
        r = max(1, int(rng.integers(max(2, w // 40), max(3, w // 14))))
        cv2.circle(img, (int(rng.integers(w)), int(rng.integers(h))), r, c, -1)
    return img


def _stripes(a: Rgb, b: Rgb, n: int) -> Callable[[np.random.Generator, int, int], np.ndarray]:
    def f(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        xx = np.mgrid[0:h, 0:w][1] + np.mgrid[0:h, 0:w][0]
        return _mix(a, b, ((xx // max(2, w // n)) % 2).astype(np.float32))

    return f


#: Table-top textures by name.
BACKGROUNDS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "wood_light": _wood((214, 180, 130), (170, 128, 80)),
    "plain_grey": _plain((170, 170, 172)),
    "plain_white": _plain((222, 222, 218)),
    "felt_green": _cloth((60, 120, 80)),
    "wood_dark": _wood((120, 80, 50), (70, 45, 28)),
    "marble": _marble,
    "cloth_blue": _cloth((70, 100, 160)),
    "gingham_red": _checker((250, 245, 240), (200, 40, 50), 14),
    "tablecloth_pattern": _blobs,
    "stripes_black": _stripes((240, 240, 240), (30, 30, 30), 10),
    "plain_beige": _plain((205, 190, 160)),
    "cork": _cloth((190, 150, 100)),
}


def table_texture(name: str, seed: int, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 RGB table texture ``name`` drawn from ``seed``."""
    if name not in BACKGROUNDS:
        close = difflib.get_close_matches(name, list(BACKGROUNDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown background {name!r}{hint}; known: {sorted(BACKGROUNDS)}")
    img = BACKGROUNDS[name](np.random.default_rng(seed), max(h, 2), max(w, 2))
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Environment:
    """A table of ``width`` x ``height`` metres, its border, and the floor around it."""

    name: str
    width: float = 0.6
    height: float = 0.4
    floor: str = "plain_grey"
    border: Rgb = (60, 60, 64)
    border_width: float = 0.012

    def __post_init__(self) -> None:
        if not (0.3 <= self.width <= 1.2):
            raise ValueError(f"Environment.width: expected 0.3..1.2 m, got {self.width}")
        if not (0.25 <= self.height <= self.width):
            raise ValueError(f"Environment.height: expected 0.25 m..width, got {self.height}")
        if self.floor not in FLOORS:
            raise ValueError(
                f"Environment.floor: unknown floor {self.floor!r}; known {sorted(FLOORS)}"
            )
        if self.border_width < 0:
            raise ValueError(f"Environment.border_width: expected >= 0, got {self.border_width}")


#: Floor patterns around the table.
FLOORS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "plain_grey": _plain((95, 95, 100)),
    "concrete": _plain((120, 118, 112)),
    "tiles_white": _tiles((200, 205, 210), (140, 140, 150), 8),
    "tiles_blue": _tiles((80, 110, 160), (40, 50, 70), 6),
    "carpet_red": _cloth((130, 40, 45)),
    "checker_dark": _checker((40, 40, 40), (110, 110, 110), 8),
    "parquet": _wood((150, 100, 60), (100, 65, 40)),
}

#: Rooms/tables ("environments") by name.
ENVIRONMENTS: dict[str, Environment] = {
    e.name: e
    for e in (
        Environment("lab_standard", 0.6, 0.4, "plain_grey", (60, 60, 64)),
        Environment("lab_compact", 0.56, 0.38, "concrete", (30, 30, 30)),
        Environment("kitchen_counter", 0.5, 0.34, "tiles_white", (150, 110, 70), 0.02),
        Environment("office_desk", 0.66, 0.44, "carpet_red", (200, 200, 205), 0.016),
        Environment("workshop_bench", 0.72, 0.46, "checker_dark", (230, 190, 40), 0.02),
        Environment("living_room", 0.48, 0.32, "parquet", (240, 240, 240), 0.008),
        Environment("bathroom_shelf", 0.64, 0.36, "tiles_blue", (90, 90, 100), 0.01),
    )
}


def get_environment(name: str) -> Environment:
    if name not in ENVIRONMENTS:
        close = difflib.get_close_matches(name, list(ENVIRONMENTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown environment {name!r}{hint}; known: {sorted(ENVIRONMENTS)}")
    return ENVIRONMENTS[name]


def floor_texture(name: str, seed: int, h: int, w: int) -> np.ndarray:
    img = FLOORS[name](np.random.default_rng(seed), max(h, 2), max(w, 2))
    return np.clip(img, 0, 255).astype(np.uint8)
