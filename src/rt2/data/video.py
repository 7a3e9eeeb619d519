"""mp4 (H.264 or AV1, yuv420p) encoding and decoding of RGB frame stacks with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

#: codec -> (PyAV encoder, its speed preset)
ENCODERS = {"h264": ("libx264", "veryfast"), "av1": ("libsvtav1", "10")}


def encode_video(
    frames: np.ndarray, path: Path, fps: int, crf: int = 18, codec: str = "h264"
) -> None:
    """Write uint8 (T, H, W, 3) frames as an H.264 (or ``codec="av1"``) mp4, a key frame every
    two frames."""
    if codec not in ENCODERS:
        raise ValueError(f"encode_video: codec must be one of {list(ENCODERS)}, got {codec!r}")
    encoder, preset = ENCODERS[codec]
    import av

    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(
            f"encode_video wants uint8 (T, H, W, 3) frames, got {frames.dtype} {frames.shape}"
        )
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"yuv420p video needs even height and width, got {h}x{w}")
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream(encoder, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"crf": str(crf), "preset": preset, "g": "2"}
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def decode_video(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """All frames of a video as uint8 (T, H, W, 3) plus their timestamps in seconds (T,)."""
    import av

    frames: list[np.ndarray] = []
    times: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.pts * stream.time_base) if frame.pts is not None else np.nan)
    if not frames:
        raise ValueError(f"{path}: no video frames decoded")
    return np.stack(frames), np.asarray(times, dtype=np.float64)
