"""How catalogue entries look from above.

Movable objects become a list of coloured polygons in the object's local frame (metres, x right,
y up), transformed and filled every frame. Printed marks are rasterised once per episode onto the
table texture with OpenCV primitives and ``cv2.putText`` glyphs.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from rt2.envs.tabletop.catalogue import COLOURS, CatalogueEntry, Rgb

Layer = tuple[np.ndarray, Rgb]  # (K, 2) float64 polygon in metres, colour


def _circle(cx: float, cy: float, r: float, n: int = 18) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)  # (n, 2)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 18) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _rect(cx: float, cy: float, hw: float, hh: float) -> np.ndarray:
    return np.array(
        [[cx - hw, cy - hh], [cx + hw, cy - hh], [cx + hw, cy + hh], [cx - hw, cy + hh]]
    )


def _regular(n: int, r: float, rot: float = np.pi / 2) -> np.ndarray:
    t = rot + np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _star(r_out: float, r_in: float, n: int = 5) -> np.ndarray:
    t = np.pi / 2 + np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    rad = np.where(np.arange(2 * n) % 2 == 0, r_out, r_in)
    return np.stack([rad * np.cos(t), rad * np.sin(t)], axis=1)


def _moon(r: float) -> np.ndarray:
    a = np.deg2rad(40)
    outer_t = np.linspace(a, 2 * np.pi - a, 20)
    outer = np.stack([r * np.cos(outer_t), r * np.sin(outer_t)], axis=1)
    ic = np.array([0.5 * r, 0.0])
    p = outer[0] - ic
    ri, phi = float(np.hypot(*p)), float(np.arctan2(p[1], p[0]))
    inner_t = np.linspace(2 * np.pi - phi, phi, 14)
    inner = ic + np.stack([ri * np.cos(inner_t), ri * np.sin(inner_t)], axis=1)
    return np.concatenate([outer, inner])


def _heart(r: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 28, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.stack([x, y + 2.5], axis=1) * (r / 16.5)


def _band(r: float) -> np.ndarray:
    """A curved banana-like band."""
    t = np.linspace(np.deg2rad(35), np.deg2rad(145), 14)
    big, c_y = 2.0 * r, -1.45 * r
    w = 0.12 * r + 0.38 * r * np.sin((t - t[0]) / (t[-1] - t[0]) * np.pi)
    outer = np.stack([(big + w) * np.cos(t), c_y + (big + w) * np.sin(t)], axis=1)
    inner = np.stack([(big - w) * np.cos(t), c_y + (big - w) * np.sin(t)], axis=1)[::-1]
    return np.concatenate([outer, inner])


def _darker(rgb: Rgb, f: float = 0.55) -> Rgb:
    return (int(rgb[0] * f), int(rgb[1] * f), int(rgb[2] * f))


def _block_outline(poly: np.ndarray, rgb: Rgb) -> list[Layer]:
    return [(poly * 1.12, _darker(rgb)), (poly, rgb)]


C = COLOURS


def _shape_layers(shape: str, rgb: Rgb, r: float) -> list[Layer]:
    if shape == "cube":
        return _block_outline(_rect(0, 0, 0.82 * r, 0.82 * r), rgb)
    if shape == "star":
        return _block_outline(_star(1.15 * r, 0.52 * r), rgb)
    if shape == "moon":
        return _block_outline(_moon(1.05 * r), rgb)
    if shape == "pentagon":
        return _block_outline(_regular(5, 0.98 * r), rgb)
    if shape == "heart":
        return _block_outline(_heart(1.05 * r), rgb)
    if shape == "triangle":
        return _block_outline(_regular(3, 1.1 * r), rgb)
    if shape == "hexagon":
        return _block_outline(_regular(6, 0.95 * r, 0.0), rgb)
    if shape == "cylinder":
        return [(_circle(0, 0, r), _darker(rgb)), (_circle(0, 0, 0.78 * r), rgb)]
    if shape == "apple":
        return [
            (_circle(0, -0.05 * r, 0.95 * r), rgb),
            (_circle(-0.3 * r, 0.2 * r, 0.25 * r), (235, 110, 100)),
            (_rect(0, 0.85 * r, 0.07 * r, 0.25 * r), C["brown"]),
            (_ellipse(0.28 * r, 0.95 * r, 0.25 * r, 0.12 * r, 10), C["green"]),
        ]
    if shape == "banana":
        return [(_band(r), rgb), (_circle(-0.93 * r, -0.05 * r, 0.1 * r, 8), C["brown"])]
    if shape == "lemon":
        poly = np.concatenate([_ellipse(0, 0, 0.95 * r, 0.72 * r, 20)])
        tips = np.array([[1.15 * r, 0.0], [-1.15 * r, 0.0]])
        return [
            (poly, rgb),
            (np.array([[0.85 * r, 0.2 * r], tips[0], [0.85 * r, -0.2 * r]]), rgb),
            (np.array([[-0.85 * r, 0.2 * r], tips[1], [-0.85 * r, -0.2 * r]]), rgb),
        ]
    if shape == "strawberry":
        body = (
            np.array(
                [
                    [-0.9, 0.5],
                    [-0.6, 0.8],
                    [0.6, 0.8],
                    [0.9, 0.5],
                    [0.5, -0.4],
                    [0.0, -1.0],
                    [-0.5, -0.4],
                ]
            )
            * r
        )
        seeds = [
            (_circle(x * r, y * r, 0.07 * r, 6), (250, 230, 120))
            for x, y in ((-0.4, 0.3), (0.3, 0.35), (0.0, -0.1), (-0.2, -0.5), (0.35, -0.25))
        ]
        return [
            (body, rgb),
            *seeds,
            (_star(0.55 * r, 0.2 * r, 5) + np.array([0.0, 0.8 * r]), C["green"]),
        ]
    if shape == "orange":
        return [(_circle(0, 0, r), rgb), (_circle(0.15 * r, 0.2 * r, 0.12 * r, 8), (200, 100, 20))]
    if shape == "grapes":
        pts = (
            (0, 0.55),
            (-0.45, 0.3),
            (0.45, 0.3),
            (0, 0.05),
            (-0.3, -0.25),
            (0.3, -0.25),
            (0, -0.6),
        )
        return [
            *[(_circle(x * r, y * r, 0.34 * r, 10), rgb) for x, y in pts],
            (_rect(0, 0.95 * r, 0.06 * r, 0.2 * r), C["green"]),
        ]
    if shape == "pear":
        return [
            (_circle(0, -0.3 * r, 0.75 * r), rgb),
            (_circle(0, 0.4 * r, 0.5 * r), rgb),
            (_rect(0, 0.95 * r, 0.06 * r, 0.18 * r), C["brown"]),
        ]
    if shape == "can":
        return [
            (_circle(0, 0, r), rgb),
            (_circle(0, 0, 0.78 * r), C["silver"]),
            (_circle(0, 0, 0.68 * r), (215, 218, 222)),
            (_ellipse(0, 0.35 * r, 0.18 * r, 0.1 * r, 10), (120, 120, 125)),
        ]
    if shape == "bottle":
        return [
            (_rect(-0.15 * r, 0, 0.95 * r, 0.5 * r), (170, 220, 235)),
            (_rect(0.95 * r, 0, 0.25 * r, 0.25 * r), (170, 220, 235)),
            (_rect(-0.2 * r, 0, 0.35 * r, 0.52 * r), (60, 120, 200)),
            (_rect(1.22 * r, 0, 0.1 * r, 0.22 * r), (30, 60, 150)),
        ]
    if shape == "juice_box":
        return [
            (_rect(0, 0, 0.65 * r, 0.9 * r), rgb),
            (_circle(0, -0.1 * r, 0.35 * r, 12), C["green"]),
            (_rect(0.35 * r, 0.75 * r, 0.06 * r, 0.45 * r), C["white"]),
        ]
    if shape == "milk_carton":
        return [
            (_rect(0, 0, 0.8 * r, 0.8 * r), rgb),
            (_rect(0, 0, 0.8 * r, 0.22 * r), (60, 110, 210)),
            (_rect(0, 0, 0.06 * r, 0.8 * r), (200, 200, 200)),
        ]
    if shape == "cup":
        return [
            (_rect(0.95 * r, 0, 0.25 * r, 0.14 * r), C["white"]),
            (_circle(0, 0, 0.9 * r), C["white"]),
            (_circle(0, 0, 0.72 * r), rgb),
        ]
    if shape == "duck":
        return [
            (_ellipse(-0.15 * r, 0, 0.85 * r, 0.65 * r), rgb),
            (_circle(0.55 * r, 0.1 * r, 0.42 * r, 12), rgb),
            (np.array([[0.9, 0.2], [1.3, 0.05], [0.9, -0.05]]) * r, C["orange"]),
            (_circle(0.62 * r, 0.25 * r, 0.08 * r, 6), C["black"]),
        ]
    if shape == "car":
        wheels = [
            (_rect(x * r, y * r, 0.22 * r, 0.1 * r), C["black"])
            for x in (-0.6, 0.6)
            for y in (-0.62, 0.62)
        ]
        return [
            *wheels,
            (_rect(0, 0, 1.05 * r, 0.58 * r), rgb),
            (_rect(0.25 * r, 0, 0.2 * r, 0.45 * r), (150, 200, 240)),
            (_rect(-0.4 * r, 0, 0.15 * r, 0.45 * r), (150, 200, 240)),
        ]
    if shape == "bear":
        return [
            (_circle(-0.6 * r, 0.6 * r, 0.32 * r, 10), rgb),
            (_circle(0.6 * r, 0.6 * r, 0.32 * r, 10), rgb),
            (_circle(0, 0, 0.85 * r), rgb),
            (_circle(0, -0.25 * r, 0.35 * r, 10), (200, 160, 110)),
            (_circle(-0.3 * r, 0.2 * r, 0.08 * r, 6), C["black"]),
            (_circle(0.3 * r, 0.2 * r, 0.08 * r, 6), C["black"]),
            (_circle(0, -0.15 * r, 0.1 * r, 6), C["black"]),
        ]
    if shape == "ball":
        layers: list[Layer] = [(_circle(0, 0, r), C["white"])]
        cols = (C["red"], C["yellow"], C["blue"])
        for k in range(6):
            t = np.linspace(k * np.pi / 3, (k + 1) * np.pi / 3, 5)
            wedge = np.concatenate([[[0.0, 0.0]], np.stack([r * np.cos(t), r * np.sin(t)], axis=1)])
            if k % 2 == 0:
                layers.append((wedge, cols[k // 2]))
        return [*layers, (_circle(0, 0, 0.15 * r, 8), C["white"])]
    raise KeyError(f"no drawing for object shape {shape!r}")


@functools.cache
def object_layers(entry: CatalogueEntry) -> tuple[Layer, ...]:
    """Coloured polygons (local frame, metres) that draw ``entry`` seen from above."""
    if entry.kind != "object":
        raise ValueError(f"{entry.name!r} is a mark; draw it with draw_mark")
    return tuple(
        (np.asarray(p, dtype=np.float64), rgb)
        for p, rgb in _shape_layers(entry.shape, entry.rgb, entry.radius)
    )


def _text(img: np.ndarray, text: str, c: tuple[float, float], h: float, rgb: Rgb) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    thick = max(1, round(h / 7))
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, thick)
    scale = h / max(th, 1)
    (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
    org = (round(c[0] - tw / 2), round(c[1] + th / 2))
    cv2.putText(img, text, org, font, scale, rgb, thick, cv2.LINE_AA)


def draw_mark(
    img: np.ndarray, entry: CatalogueEntry, centre: tuple[float, float], half: float
) -> None:
    """Rasterise a printed mark onto ``img`` (H, W, 3) RGB, centred at ``centre`` px, ``half`` px."""
    if entry.kind != "mark":
        raise ValueError(f"{entry.name!r} is not a mark")
    cx, cy = centre
    h = max(half, 2.0)
    lw = max(1, round(h / 5))
    aa = cv2.LINE_AA

    def p(x: float, y: float) -> tuple[int, int]:
        return (round(cx + x * h), round(cy + y * h))

    s, rgb = entry.shape, entry.rgb
    if entry.category not in ("plain mark",):
        cv2.rectangle(img, p(-1, -1), p(1, 1), (245, 243, 235), -1)
        cv2.rectangle(img, p(-1, -1), p(1, 1), (170, 170, 170), 1)
    if s == "cross":
        cv2.line(img, p(-0.8, -0.8), p(0.8, 0.8), rgb, lw + 1, aa)
        cv2.line(img, p(-0.8, 0.8), p(0.8, -0.8), rgb, lw + 1, aa)
    elif s == "ring":
        cv2.circle(img, p(0, 0), round(0.8 * h), rgb, lw + 1, aa)
    elif s == "target":
        for k, col in enumerate((rgb, (245, 245, 245), rgb)):
            cv2.circle(img, p(0, 0), max(1, round((0.9 - 0.3 * k) * h)), col, -1, aa)
    elif s == "dot":
        cv2.circle(img, p(0, 0), round(0.6 * h), rgb, -1, aa)
    elif s == "square":
        cv2.rectangle(img, p(-0.75, -0.75), p(0.75, 0.75), rgb, lw + 1, aa)
    elif s.startswith("digit_"):
        _text(img, s[-1], (cx, cy), 1.4 * h, rgb)
    elif s == "heart_symbol":
        pts = _heart(0.85 * h) * [1, -1] + [cx, cy]
        cv2.fillPoly(img, [np.round(pts).astype(np.int32)], rgb, aa)
    elif s == "plus":
        cv2.line(img, p(-0.7, 0), p(0.7, 0), rgb, lw + 1, aa)
        cv2.line(img, p(0, -0.7), p(0, 0.7), rgb, lw + 1, aa)
    elif s == "arrow":
        cv2.arrowedLine(img, p(-0.75, 0), p(0.75, 0), rgb, lw + 1, aa, tipLength=0.45)
    elif s == "question":
        _text(img, "?", (cx, cy), 1.4 * h, rgb)
    elif s == "dollar":
        _text(img, "$", (cx, cy), 1.5 * h, rgb)
    elif s == "cat":
        cv2.fillPoly(
            img,
            [
                np.array([p(-0.7, -0.2), p(-0.55, -0.9), p(-0.15, -0.55)]),
                np.array([p(0.7, -0.2), p(0.55, -0.9), p(0.15, -0.55)]),
            ],
            rgb,
            aa,
        )
        cv2.circle(img, p(0, 0.1), round(0.65 * h), rgb, -1, aa)
        for sx in (-0.25, 0.25):
            cv2.circle(img, p(sx, 0), max(1, round(0.1 * h)), (20, 20, 20), -1, aa)
        cv2.circle(img, p(0, 0.25), max(1, round(0.08 * h)), (240, 120, 150), -1, aa)
        for sy in (0.25, 0.4):
            cv2.line(img, p(-0.9, sy), p(-0.3, 0.3), (40, 40, 40), 1, aa)
            cv2.line(img, p(0.9, sy), p(0.3, 0.3), (40, 40, 40), 1, aa)
    elif s == "dog":
        cv2.circle(img, p(0, 0), round(0.6 * h), rgb, -1, aa)
        for sx in (-0.62, 0.62):
            cv2.ellipse(
                img, p(sx, 0.05), (round(0.2 * h), round(0.5 * h)), 0, 0, 360, (70, 40, 20), -1, aa
            )
        cv2.circle(img, p(0, 0.3), round(0.25 * h), (210, 180, 140), -1, aa)
        cv2.circle(img, p(0, 0.22), max(1, round(0.1 * h)), (20, 20, 20), -1, aa)
        for sx in (-0.22, 0.22):
            cv2.circle(img, p(sx, -0.15), max(1, round(0.08 * h)), (20, 20, 20), -1, aa)
    elif s == "fish":
        cv2.ellipse(img, p(-0.1, 0), (round(0.6 * h), round(0.38 * h)), 0, 0, 360, rgb, -1, aa)
        cv2.fillPoly(img, [np.array([p(0.45, 0), p(0.9, -0.4), p(0.9, 0.4)])], rgb, aa)
        cv2.circle(img, p(-0.4, -0.08), max(1, round(0.08 * h)), (20, 20, 20), -1, aa)
    elif s == "house":
        cv2.rectangle(img, p(-0.6, -0.1), p(0.6, 0.85), rgb, -1)
        cv2.fillPoly(
            img, [np.array([p(-0.85, -0.1), p(0, -0.85), p(0.85, -0.1)])], (90, 60, 40), aa
        )
        cv2.rectangle(img, p(-0.15, 0.35), p(0.15, 0.85), (90, 60, 40), -1)
    elif s == "tree":
        cv2.rectangle(img, p(-0.12, 0.2), p(0.12, 0.9), (110, 70, 40), -1)
        cv2.circle(img, p(0, -0.2), round(0.62 * h), rgb, -1, aa)
    elif s == "sun":
        for k in range(8):
            a = k * np.pi / 4
            cv2.line(
                img,
                p(0.5 * np.cos(a), 0.5 * np.sin(a)),
                p(0.92 * np.cos(a), 0.92 * np.sin(a)),
                (240, 150, 30),
                lw,
                aa,
            )
        cv2.circle(img, p(0, 0), round(0.45 * h), rgb, -1, aa)
    elif s == "flag_france":
        for k, col in enumerate(((0, 60, 160), (250, 250, 250), (220, 30, 50))):
            cv2.rectangle(img, p(-0.9 + 0.6 * k, -0.6), p(-0.3 + 0.6 * k, 0.6), col, -1)
    elif s == "flag_japan":
        cv2.rectangle(img, p(-0.9, -0.6), p(0.9, 0.6), (250, 250, 250), -1)
        cv2.rectangle(img, p(-0.9, -0.6), p(0.9, 0.6), (150, 150, 150), 1)
        cv2.circle(img, p(0, 0), round(0.35 * h), (200, 20, 40), -1, aa)
    elif s == "recycle":
        tri = [p(0, -0.75), p(0.75, 0.6), p(-0.75, 0.6)]
        cv2.polylines(img, [np.array(tri)], True, rgb, lw + 1, aa)
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
            m = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
            cv2.arrowedLine(img, a, m, rgb, lw + 1, aa, tipLength=0.6)
    elif s == "smiley":
        cv2.circle(img, p(0, 0), round(0.85 * h), rgb, -1, aa)
        for sx in (-0.3, 0.3):
            cv2.circle(img, p(sx, -0.2), max(1, round(0.1 * h)), (20, 20, 20), -1, aa)
        cv2.ellipse(
            img, p(0, 0.1), (round(0.45 * h), round(0.4 * h)), 0, 20, 160, (20, 20, 20), lw, aa
        )
    else:
        raise KeyError(f"no drawing for mark shape {s!r}")
