"""The LeRobot v3.0 on-disk layout: path templates, feature schemas and ``meta/info.json``.

A v3.0 dataset directory holds::

    meta/info.json                               schema, fps, path templates, totals
    meta/stats.json                              per-feature mean/std/min/max/q01/q99/count
    meta/tasks.parquet                           task string (pandas index) -> task_index
    meta/episodes/chunk-XXX/file-YYY.parquet     one row per episode: length, tasks, row range,
                                                 data/video file refs
    data/chunk-XXX/file-YYY.parquet              one row per frame, many episodes per file
    videos/{key}/chunk-XXX/file-YYY.mp4          (video features only) episodes concatenated

Image features (``dtype: "image"``) live inside the data parquet as Hugging Face ``Image``
structs ``{bytes: PNG, path: null}``; video features live in the mp4 files.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CODEBASE_VERSION = "v3.0"
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
DATA_DIR = "data"
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = DATA_DIR + "/" + CHUNK_FILE + ".parquet"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
DEFAULT_CHUNKS_SIZE = 1000  # files per chunk directory (LeRobot's default)

# Per-frame bookkeeping columns every LeRobot dataset has.
DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}
VISUAL_DTYPES = ("image", "video")
#: LeRobot's key for privileged simulator state (here: the expert's plan state)
ENV_STATE_KEY = "observation.environment_state"


class DatasetFormatError(ValueError):
    """A dataset directory is missing files or does not follow the LeRobot v3.0 layout."""


def chunk_file(file_number: int, chunks_size: int = DEFAULT_CHUNKS_SIZE) -> tuple[int, int]:
    """Running file number -> (chunk_index, file_index)."""
    return divmod(file_number, chunks_size)


def file_number(chunk_index: int, file_index: int, chunks_size: int = DEFAULT_CHUNKS_SIZE) -> int:
    """(chunk_index, file_index) -> running file number."""
    return chunk_index * chunks_size + file_index


def image_feature(height: int, width: int, dtype: str = "image", fps: int = 10) -> dict[str, Any]:
    """Schema of an RGB camera feature stored as PNG images or as an mp4 video."""
    if dtype not in VISUAL_DTYPES:
        raise ValueError(f"image_feature dtype must be one of {VISUAL_DTYPES}, got {dtype!r}")
    feature: dict[str, Any] = {
        "dtype": dtype,
        "shape": [height, width, 3],
        "names": ["height", "width", "channels"],
    }
    if dtype == "video":
        feature["info"] = {
            "video.height": height,
            "video.width": width,
            "video.codec": "h264",
            "video.pix_fmt": "yuv420p",
            "video.is_depth_map": False,
            "video.fps": fps,
            "video.channels": 3,
            "has_audio": False,
        }
    return feature


def vector_feature(names: list[str], dtype: str = "float32") -> dict[str, Any]:
    """Schema of a 1-D float vector (state, action) with named entries."""
    return {"dtype": dtype, "shape": [len(names)], "names": list(names)}


def make_info(
    features: dict[str, dict[str, Any]],
    fps: int,
    robot_type: str | None = None,
    chunks_size: int = DEFAULT_CHUNKS_SIZE,
) -> dict[str, Any]:
    """A fresh ``meta/info.json`` payload for an empty dataset."""
    all_features = {**features, **DEFAULT_FEATURES}
    has_video = any(f["dtype"] == "video" for f in all_features.values())
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": 0,
        "total_frames": 0,
        "total_tasks": 0,
        "chunks_size": chunks_size,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": {},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if has_video else None,
        "features": all_features,
    }


def validate_info(info: Any, where: str = INFO_PATH) -> dict[str, Any]:
    """Check the fields a reader relies on; raise :class:`DatasetFormatError` naming the problem."""
    if not isinstance(info, dict):
        raise DatasetFormatError(f"{where}: expected a JSON object, got {type(info).__name__}")
    version = info.get("codebase_version")
    if not isinstance(version, str):
        raise DatasetFormatError(
            f"{where}: missing 'codebase_version' (expected {CODEBASE_VERSION!r})"
        )
    if not version.startswith("v3."):
        hint = (
            " (v2.x datasets keep one parquet per episode; convert them with LeRobot's "
            "convert_dataset_v21_to_v30 first)"
            if version.startswith("v2")
            else ""
        )
        raise DatasetFormatError(
            f"{where}: unsupported codebase_version {version!r}; this reader supports v3.x{hint}"
        )
    for key, kind in (("fps", (int, float)), ("features", dict), ("data_path", str)):
        if key not in info:
            raise DatasetFormatError(f"{where}: missing required field {key!r}")
        if not isinstance(info[key], kind):
            raise DatasetFormatError(f"{where}: field {key!r} has invalid value {info[key]!r}")
    if info["fps"] <= 0:
        raise DatasetFormatError(f"{where}: field 'fps' must be > 0, got {info['fps']!r}")
    for name, feature in info["features"].items():
        if not isinstance(feature, dict) or "dtype" not in feature or "shape" not in feature:
            raise DatasetFormatError(
                f"{where}: feature {name!r} needs 'dtype' and 'shape', got {feature!r}"
            )
        if feature["dtype"] == "video" and not info.get("video_path"):
            raise DatasetFormatError(
                f"{where}: feature {name!r} is a video but 'video_path' is empty"
            )
    return info


_REQUIRED: Any = object()


def read_json(path: Path, default: Any = _REQUIRED) -> Any:
    """The one JSON file reader: ``path``'s JSON, or ``default`` if the file does not exist
    (without a default a missing file raises ``FileNotFoundError``); invalid JSON raises
    :class:`DatasetFormatError` naming the file."""
    path = Path(path)
    if default is not _REQUIRED and not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetFormatError(f"{path}: invalid JSON ({err})") from err


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` via ``write(tmp_path)`` on a temp file in the same dir, then ``os.replace``.

    Readers and a resumed run therefore never see a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented UTF-8 JSON."""
    text = json.dumps(data, indent=4, ensure_ascii=False)
    atomic_write(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))
