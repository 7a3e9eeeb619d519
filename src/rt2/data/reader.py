"""Read any LeRobot v3.0 dataset from a local directory, without the ``lerobot`` package.

>>> ds = EpisodeDataset("data/tabletop_seen")        # doctest: +SKIP
>>> ep = ds.episode(0); ep.images.shape, ep.actions.shape, ep.instruction  # doctest: +SKIP
>>> ds[17]["action"], ds[17]["task"]                 # doctest: +SKIP
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rt2.data import format as fmt


@dataclass(frozen=True)
class EpisodeInfo:
    """One row of ``meta/episodes``: where an episode's frames live."""

    index: int
    length: int
    tasks: tuple[str, ...]
    from_index: int  # global frame ``index`` of the first frame
    to_index: int  # one past the last frame
    data_chunk: int
    data_file: int
    video_refs: dict[str, tuple[int, int, float]]  # key -> (chunk, file, from_timestamp)
    extra: dict[str, Any]


@dataclass(frozen=True)
class Episode:
    """All frames of one episode as arrays."""

    index: int
    instruction: str
    images: np.ndarray  # (T, H, W, 3) uint8
    states: np.ndarray | None  # (T, S) float32
    actions: np.ndarray  # (T, D) float32
    timestamps: np.ndarray  # (T,)
    extra: dict[str, Any]
    env_states: np.ndarray | None = None  # (T, E) observation.environment_state, if recorded

    def __len__(self) -> int:
        return int(self.actions.shape[0])


def _column_to_numpy(column: pa.ChunkedArray) -> np.ndarray:
    """Numeric (N,) or list-of-numbers (N, D) column -> numpy."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_fixed_size_list(arr.type):
        return arr.flatten().to_numpy(zero_copy_only=False).reshape(len(arr), arr.type.list_size)
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return np.asarray(arr.to_pylist())
    return arr.to_numpy(zero_copy_only=False)


class EpisodeDataset:
    """A LeRobot v3.0 dataset on local disk: frames, actions, states, instructions and stats."""

    def __init__(self, root: str | Path, video_cache_files: int = 2) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"dataset directory {self.root} does not exist")
        info_path = self.root / fmt.INFO_PATH
        if not info_path.is_file():
            raise fmt.DatasetFormatError(
                f"{self.root} is not a LeRobot dataset: {fmt.INFO_PATH} is missing "
                "(collect one with `rt2 collect --out DIR`)"
            )
        self.info: dict[str, Any] = fmt.validate_info(fmt.read_json(info_path), str(info_path))
        self.features: dict[str, dict[str, Any]] = self.info["features"]
        self.fps = float(self.info["fps"])
        stats_path = self.root / fmt.STATS_PATH
        self.stats: dict[str, Any] | None = (
            fmt.read_json(stats_path) if stats_path.is_file() else None
        )
        self.tasks = self._load_tasks()
        self.episodes = self._load_episodes()
        self._table = self._load_data()
        self._video_cache: OrderedDict[Path, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._video_cache_files = video_cache_files
        self._global_index = _column_to_numpy(self._table.column("index")).astype(np.int64)
        self._row_of_episode = {
            e.index: int(np.searchsorted(self._global_index, e.from_index)) for e in self.episodes
        }

    # ---- loading ---------------------------------------------------------------------------
    def _load_tasks(self) -> dict[int, str]:
        path = self.root / fmt.TASKS_PATH
        if not path.is_file():
            raise fmt.DatasetFormatError(f"{self.root}: {fmt.TASKS_PATH} is missing")
        table = pq.read_table(path)
        names = table.column_names
        text_col = next((c for c in ("task", "__index_level_0__") if c in names), None)
        if "task_index" not in names or text_col is None:
            raise fmt.DatasetFormatError(
                f"{path}: expected columns 'task_index' and 'task', got {names}"
            )
        idx, text = table.column("task_index").to_pylist(), table.column(text_col).to_pylist()
        return {int(i): str(t) for i, t in zip(idx, text, strict=True)}

    def _load_episodes(self) -> list[EpisodeInfo]:
        files = sorted((self.root / fmt.EPISODES_DIR).glob("chunk-*/*.parquet"))
        if not files and self.info.get("total_episodes", 0) > 0:
            raise fmt.DatasetFormatError(
                f"{self.root}: no episode metadata under {fmt.EPISODES_DIR}/"
            )
        rows = [r for f in files for r in pq.read_table(f).to_pylist()]
        required = (
            "episode_index",
            "length",
            "dataset_from_index",
            "dataset_to_index",
            "data/chunk_index",
            "data/file_index",
        )
        video_keys = [k for k, f in self.features.items() if f["dtype"] == "video"]
        episodes = []
        for r in rows:
            missing = [k for k in required if k not in r]
            if missing:
                raise fmt.DatasetFormatError(
                    f"{self.root}: episode metadata lacks columns {missing}"
                )
            refs = {
                k: (
                    int(r[f"videos/{k}/chunk_index"]),
                    int(r[f"videos/{k}/file_index"]),
                    float(r[f"videos/{k}/from_timestamp"]),
                )
                for k in video_keys
            }
            known = {*required, "tasks"}
            extra = {
                k: v
                for k, v in r.items()
                if k not in known and not k.startswith(("stats/", "videos/", "meta/"))
            }
            episodes.append(
                EpisodeInfo(
                    index=int(r["episode_index"]),
                    length=int(r["length"]),
                    tasks=tuple(r.get("tasks") or ()),
                    from_index=int(r["dataset_from_index"]),
                    to_index=int(r["dataset_to_index"]),
                    data_chunk=int(r["data/chunk_index"]),
                    data_file=int(r["data/file_index"]),
                    video_refs=refs,
                    extra=extra,
                )
            )
        episodes.sort(key=lambda e: e.index)
        total = self.info.get("total_episodes")
        if total is not None:  # info.json is the commit point: ignore rows written after it
            episodes = [e for e in episodes if e.index < total]
        if total is not None and len(episodes) != total:
            raise fmt.DatasetFormatError(
                f"{self.root}: info.json says total_episodes={total} but meta/episodes has {len(episodes)} rows"
            )
        return episodes

    def _load_data(self) -> pa.Table:
        """Frames of the committed episodes, from the data files they reference, in index order."""
        size = int(self.info.get("chunks_size", fmt.DEFAULT_CHUNKS_SIZE))
        refs = sorted({fmt.file_number(e.data_chunk, e.data_file, size) for e in self.episodes})
        if not refs:
            return pa.table({"index": pa.array([], pa.int64())})
        end = max(e.to_index for e in self.episodes)
        tables = []
        for n in refs:
            chunk, file = fmt.chunk_file(n, size)
            path = self.root / self.info["data_path"].format(chunk_index=chunk, file_index=file)
            if not path.is_file():
                raise fmt.DatasetFormatError(
                    f"{self.root}: data file {path.relative_to(self.root)} is missing"
                )
            tables.append(self._file_frames(pq.read_table(path), path, end))
        # each file in index order, files by first index: no sort of the whole table, whose
        # image bytes overflow one array's 32-bit offsets past 2 GiB
        tables.sort(key=lambda t: t.column("index")[0].as_py() if t.num_rows else -1)
        table = pa.concat_tables(tables, promote_options="default")
        if np.any(np.diff(table.column("index").to_numpy()) < 0):
            raise fmt.DatasetFormatError(
                f"{self.root}: data files hold interleaved frame indices (each file should hold "
                "a contiguous range of frames)"
            )
        return table

    def _file_frames(self, table: pa.Table, path: Path, end: int) -> pa.Table:
        """One data file's committed frames (index < ``end``), in index order."""
        if "index" not in table.column_names:
            raise fmt.DatasetFormatError(
                f"{self.root}: data file {path.relative_to(self.root)} lacks the 'index' column"
            )
        index = table.column("index").to_numpy()
        if int((index < end).sum()) != table.num_rows:
            table = table.filter(pa.array(index < end))
            index = table.column("index").to_numpy()
        return table if np.all(np.diff(index) >= 0) else table.sort_by("index")

    # ---- sizes and columns -----------------------------------------------------------------
    @property
    def num_episodes(self) -> int:
        return len(self.episodes)

    @property
    def num_frames(self) -> int:
        return self._table.num_rows

    def __len__(self) -> int:
        return self.num_frames

    @property
    def image_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f["dtype"] in fmt.VISUAL_DTYPES]

    def column(self, key: str) -> np.ndarray:
        """A non-visual feature over all frames: (N,) or (N, D)."""
        if key not in self._table.column_names:
            raise KeyError(f"no column {key!r} in the data files; have {self._table.column_names}")
        return _column_to_numpy(self._table.column(key))

    @property
    def actions(self) -> np.ndarray:
        """(N, D) actions of all frames."""
        return self.column("action")

    @property
    def states(self) -> np.ndarray:
        """(N, S) proprioceptive states of all frames."""
        return self.column("observation.state")

    @property
    def episode_boundaries(self) -> np.ndarray:
        """(E, 2) [start, end) row ranges of the episodes in this reader's frame order."""
        return np.array(
            [
                [self._row_of_episode[e.index], self._row_of_episode[e.index] + e.length]
                for e in self.episodes
            ]
        )

    def instruction(self, row: int) -> str:
        """The task text of frame ``row``."""
        return self.tasks[int(self._table.column("task_index")[row].as_py())]

    # ---- images ----------------------------------------------------------------------------
    def images(self, rows: slice | np.ndarray | list[int], key: str | None = None) -> np.ndarray:
        """Decoded uint8 (n, H, W, 3) frames of camera ``key`` (default: the first) at ``rows``."""
        key = key or self.image_keys[0]
        idx = (
            range(*rows.indices(self.num_frames))
            if isinstance(rows, slice)
            else np.asarray(rows, dtype=np.int64)
        )
        if self.features[key]["dtype"] == "image":
            col = self._table.column(key)
            return (
                np.stack([self._decode_image(col[int(i)].as_py()) for i in idx])
                if len(idx)
                else np.zeros((0, 0, 0, 3), np.uint8)
            )
        return np.stack([self._video_frame(key, int(i)) for i in idx])

    def _decode_image(self, value: dict[str, Any] | bytes) -> np.ndarray:
        import cv2

        data = value.get("bytes") if isinstance(value, dict) else value
        if data is None and isinstance(value, dict) and value.get("path"):
            data = (self.root / value["path"]).read_bytes()
        if data is None:
            raise fmt.DatasetFormatError(f"{self.root}: image cell has neither bytes nor path")
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise fmt.DatasetFormatError(f"{self.root}: could not decode an image cell")
        return img[..., ::-1].copy()  # BGR -> RGB

    def _video_frame(self, key: str, row: int) -> np.ndarray:
        ep_index = int(self._table.column("episode_index")[row].as_py())
        ts = float(self._table.column("timestamp")[row].as_py())
        ep = self.episodes[self._episode_pos(ep_index)]
        chunk, file, start = ep.video_refs[key]
        path = self.root / self.info["video_path"].format(
            video_key=key, chunk_index=chunk, file_index=file
        )
        frames, times = self._video(path)
        j = int(np.argmin(np.abs(times - (start + ts))))
        if abs(times[j] - (start + ts)) > 0.5 / self.fps:
            raise fmt.DatasetFormatError(
                f"{path}: no frame near t={start + ts:.3f}s (closest {times[j]:.3f}s)"
            )
        return frames[j]

    def _video(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        from rt2.data.video import decode_video

        if path not in self._video_cache:
            if not path.is_file():
                raise fmt.DatasetFormatError(f"video file {path} is missing")
            self._video_cache[path] = decode_video(path)
            while len(self._video_cache) > self._video_cache_files:
                self._video_cache.popitem(last=False)
        self._video_cache.move_to_end(path)
        return self._video_cache[path]

    def _episode_pos(self, ep_index: int) -> int:
        if not hasattr(self, "_ep_pos"):
            self._ep_pos = {e.index: i for i, e in enumerate(self.episodes)}
        return self._ep_pos[ep_index]

    # ---- access ----------------------------------------------------------------------------
    def __getitem__(self, row: int) -> dict[str, Any]:
        """One frame: every feature as numpy (images uint8 HWC) plus ``task`` text."""
        if not -self.num_frames <= row < self.num_frames:
            raise IndexError(f"frame {row} out of range for a dataset of {self.num_frames} frames")
        row %= self.num_frames
        out: dict[str, Any] = {}
        for key in self.features:
            if key in self.image_keys:
                out[key] = self.images([row], key)[0]
            elif key in self._table.column_names:
                value = self._table.column(key)[row].as_py()
                out[key] = (
                    np.asarray(value, dtype=self.features[key]["dtype"])
                    if isinstance(value, list)
                    else value
                )
        out["task"] = self.instruction(row)
        return out

    def episode(self, i: int) -> Episode:
        """Episode number ``i`` (position in ``episodes``) with all frames decoded."""
        info = self.episodes[i]
        start = self._row_of_episode[info.index]
        # convert only this episode's rows: whole-column conversions per episode cost O(frames)
        # each and, over thousands of episodes, filled arrow's allocator past 24 GB
        part = self._table.slice(start, info.length)
        have = part.column_names

        def col(key: str) -> np.ndarray | None:
            return _column_to_numpy(part.column(key)) if key in have else None

        return Episode(
            index=info.index,
            instruction=self.tasks[int(part.column("task_index")[0].as_py())],
            images=self.images(slice(start, start + info.length))
            if self.image_keys
            else np.zeros((info.length, 0, 0, 3), np.uint8),
            states=col("observation.state"),
            actions=_column_to_numpy(part.column("action")),
            timestamps=_column_to_numpy(part.column("timestamp")),
            extra=dict(info.extra),
            env_states=col(fmt.ENV_STATE_KEY),
        )
