"""Episode videos (GIF or MP4) with the instruction written over the frames."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def overlay_instruction(frame: np.ndarray, text: str, min_width: int = 256) -> np.ndarray:
    """Upscale ``frame`` (H, W, 3) to at least ``min_width`` px and add a caption banner on top."""
    import cv2

    img = np.asarray(frame, dtype=np.uint8)
    scale = max(1, int(np.ceil(min_width / img.shape[1])))
    img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)  # nearest-neighbour (H*s, W*s, 3)
    width = img.shape[1]
    font, font_scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1
    char_w = cv2.getTextSize("M", font, font_scale, thickness)[0][0]
    lines = textwrap.wrap(text, max(8, (width - 8) // max(char_w, 1))) or [""]
    line_h = 14
    banner = np.full((line_h * len(lines) + 6, width, 3), 20, np.uint8)
    for k, line in enumerate(lines):
        cv2.putText(
            banner,
            line,
            (4, 12 + k * line_h),
            font,
            font_scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
    return np.concatenate([banner, img], axis=0)


def write_episode_video(
    frames: Sequence[np.ndarray],
    instruction: str,
    path: Path,
    success: bool | None = None,
    fps: int = 10,
    captions: Sequence[str] = (),
) -> Path:
    """Write ``frames`` captioned with ``instruction`` to ``path`` (.gif or .mp4).

    ``captions[t]`` (e.g. the plan a policy wrote on frame t) is added under the instruction of
    frame t. With ``success`` given, the last frame gets a green/red border and is held for a second.
    """
    if not frames:
        raise ValueError("write_episode_video needs at least one frame")
    texts = [
        f"{instruction} | {captions[t]}" if t < len(captions) and captions[t] else instruction
        for t in range(len(frames))
    ]
    out = [overlay_instruction(f, text) for f, text in zip(frames, texts, strict=True)]
    top = max(o.shape[0] for o in out)  # captions may wrap to more lines: one frame size for all
    out = [np.pad(o, ((top - o.shape[0], 0), (0, 0), (0, 0)), constant_values=20) for o in out]
    hold = 1
    if success is not None:
        last = out[-1].copy()
        colour = (40, 200, 40) if success else (220, 40, 40)
        last[:4], last[-4:], last[:, :4], last[:, -4:] = colour, colour, colour, colour
        out.append(last)
        hold = fps
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".mp4":
        from rt2.data.video import encode_video

        stack = np.stack(out + [out[-1]] * (hold - 1))
        h, w = stack.shape[1] // 2 * 2, stack.shape[2] // 2 * 2
        encode_video(np.ascontiguousarray(stack[:, :h, :w]), path, fps)
    elif path.suffix == ".gif":
        import imageio.v2 as imageio

        durations = [1000 / fps] * (len(out) - 1) + [1000 / fps * hold]  # ms per frame
        imageio.mimsave(path, out, duration=durations, loop=0)
    else:
        raise ValueError(f"video path must end in .gif or .mp4, got {path}")
    return path
