"""Writer -> reader round trips in the LeRobot v3.0 layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rt2.data import DatasetFormatError, DatasetSpec, DatasetWriter, EpisodeData, EpisodeDataset
from rt2.data.stats import ImageStats


def _episodes(n: int, size: int = 16, smooth: bool = False, seed: int = 0) -> list[EpisodeData]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = int(rng.integers(2, 9))
        if smooth:  # codec-friendly: flat colour fields that move
            base = np.zeros((t, size, size, 3), np.uint8)
            for k in range(t):
                base[k, :, :] = rng.integers(40, 200, 3)
                base[k, : size // 2, : size // 2] = (220, 30, 30)
            images = base
        else:
            images = rng.integers(0, 256, (t, size, size, 3), dtype=np.uint8)
        out.append(
            EpisodeData(
                images=images,
                states=rng.normal(size=(t, 3)),
                actions=rng.uniform(-0.05, 0.05, (t, 2)),
                instruction=f"push the block to corner {i % 3}",
                extra={"success": bool(i % 2), "task_family": "f"},
            )
        )
    return out


def _spec(fmt: str = "image", per_file: int = 2, size: int = 16) -> DatasetSpec:
    return DatasetSpec(
        fps=10,
        image_shape=(size, size, 3),
        state_names=("x", "y", "z"),
        action_names=("dx", "dy"),
        image_format=fmt,  # type: ignore[arg-type]
        episodes_per_file=per_file,
    )


def _write(root: Path, episodes: list[EpisodeData], spec: DatasetSpec) -> None:
    with DatasetWriter(root, spec) as writer:
        for ep in episodes:
            writer.add_episode(ep)


def test_png_round_trip_is_exact(tmp_path: Path) -> None:
    eps = _episodes(5)
    _write(tmp_path, eps, _spec())
    ds = EpisodeDataset(tmp_path)
    assert ds.num_episodes == 5
    assert ds.num_frames == sum(len(e.images) for e in eps)
    for i, ep in enumerate(eps):
        got = ds.episode(i)
        np.testing.assert_array_equal(got.images, ep.images)
        np.testing.assert_array_equal(got.actions, ep.actions.astype(np.float32))
        np.testing.assert_array_equal(got.states, ep.states.astype(np.float32))
        assert got.instruction == ep.instruction
        assert got.extra["success"] == ep.extra["success"]
        np.testing.assert_allclose(got.timestamps, np.arange(len(ep.images)) / 10, atol=1e-6)
    bounds = ds.episode_boundaries
    assert bounds[0, 0] == 0 and bounds[-1, 1] == ds.num_frames
    assert (bounds[1:, 0] == bounds[:-1, 1]).all()
    frame = ds[int(bounds[2, 0]) + 1]
    np.testing.assert_array_equal(frame["observation.image"], eps[2].images[1])
    assert frame["task"] == eps[2].instruction and frame["frame_index"] == 1


def test_rows_out_of_order_within_a_file_are_sorted_and_interleaved_files_named(
    tmp_path: Path,
) -> None:
    """The reader orders each data file's frames alone (a sort of the whole table overflows
    the 32-bit offsets of its image bytes past 2 GiB), so files must hold contiguous frames."""
    eps = _episodes(5)
    _write(tmp_path, eps, _spec(per_file=2))
    path = tmp_path / "data/chunk-000/file-001.parquet"
    table = pq.read_table(path)
    pq.write_table(table.take(np.arange(table.num_rows)[::-1]), path)  # rows reversed
    ds = EpisodeDataset(tmp_path)
    for i, ep in enumerate(eps):
        np.testing.assert_array_equal(ds.episode(i).images, ep.images)
        np.testing.assert_array_equal(ds.episode(i).actions, ep.actions.astype(np.float32))
    first = pq.read_table(tmp_path / "data/chunk-000/file-000.parquet")
    swapped = first.set_column(  # file 0 now claims a frame of file 1's range
        first.column_names.index("index"), "index",
        pa.array([*first.column("index").to_pylist()[:-1], max(table.column("index").to_pylist())]),
    )  # fmt: skip
    pq.write_table(swapped, tmp_path / "data/chunk-000/file-000.parquet")
    with pytest.raises(DatasetFormatError, match="interleaved"):
        EpisodeDataset(tmp_path)


def test_layout_follows_lerobot_v3(tmp_path: Path) -> None:
    eps = _episodes(5)
    _write(tmp_path, eps, _spec(per_file=2))
    info = json.loads((tmp_path / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert info["total_episodes"] == 5 and info["total_tasks"] == 3
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    for key in (
        "observation.image",
        "observation.state",
        "action",
        "timestamp",
        "frame_index",
        "episode_index",
        "index",
        "task_index",
    ):
        assert {"dtype", "shape", "names"} <= set(info["features"][key])
    assert info["features"]["observation.image"]["dtype"] == "image"
    # 5 episodes, 2 per file -> files 0, 1, 2
    assert sorted(p.name for p in (tmp_path / "data/chunk-000").iterdir()) == [
        "file-000.parquet",
        "file-001.parquet",
        "file-002.parquet",
    ]
    eps_table = pq.read_table(tmp_path / "meta/episodes/chunk-000/file-001.parquet").to_pylist()
    assert [r["episode_index"] for r in eps_table] == [2, 3]
    assert eps_table[0]["data/file_index"] == 1 and eps_table[0]["tasks"] == [eps[2].instruction]
    tasks = pq.read_table(tmp_path / "meta/tasks.parquet")
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]
    image_col = pq.read_table(tmp_path / "data/chunk-000/file-000.parquet").column(
        "observation.image"
    )
    assert image_col.type.names == ["bytes", "path"]
    stats = json.loads((tmp_path / "meta/stats.json").read_text())
    actions = np.concatenate([e.actions for e in eps]).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(stats["action"]["mean"], actions.mean(0), rtol=1e-6)
    np.testing.assert_allclose(
        stats["action"]["q99"], np.quantile(actions, 0.99, axis=0), rtol=1e-6
    )
    assert np.asarray(stats["observation.image"]["mean"]).shape == (3, 1, 1)
    assert stats["action"]["count"] == [len(actions)]


def test_video_round_trip_within_codec_tolerance(tmp_path: Path) -> None:
    eps = _episodes(3, size=32, smooth=True)
    _write(tmp_path, eps, _spec("video", per_file=2, size=32))
    assert (tmp_path / "videos/observation.image/chunk-000/file-001.mp4").is_file()
    ds = EpisodeDataset(tmp_path)
    for i, ep in enumerate(eps):
        got = ds.episode(i)
        assert got.images.shape == ep.images.shape
        err = np.abs(got.images.astype(np.int16) - ep.images.astype(np.int16))
        assert err.mean() < 4.0, f"episode {i}: mean abs error {err.mean():.2f}"
        np.testing.assert_array_equal(got.actions, ep.actions.astype(np.float32))


def test_image_stats_match_numpy() -> None:
    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    s = ImageStats()
    s.update(imgs[:3])
    s.update(imgs[3:])
    res = s.result()
    flat = imgs.reshape(-1, 3).astype(np.float64) / 255
    np.testing.assert_allclose(np.asarray(res["mean"]).reshape(3), flat.mean(0), atol=1e-12)
    np.testing.assert_allclose(np.asarray(res["std"]).reshape(3), flat.std(0), atol=1e-9)
    np.testing.assert_allclose(np.asarray(res["min"]).reshape(3), flat.min(0))
    np.testing.assert_allclose(np.asarray(res["max"]).reshape(3), flat.max(0))
    np.testing.assert_allclose(
        np.asarray(res["q99"]).reshape(3), np.quantile(flat, 0.99, axis=0, method="inverted_cdf")
    )


def test_writer_rejects_bad_episodes(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, _spec())
    ep = _episodes(1)[0]
    with pytest.raises(ValueError, match="images"):
        writer.add_episode(EpisodeData(ep.images[..., :2], ep.states, ep.actions, "x"))
    with pytest.raises(ValueError, match="action must have shape"):
        writer.add_episode(EpisodeData(ep.images, ep.states, ep.actions[:, :1], "x"))
    with pytest.raises(ValueError, match="lengths differ"):
        EpisodeData(ep.images, ep.states[:1], ep.actions, "x")
    writer.close()


def test_environment_state_round_trips_and_resumes(tmp_path: Path) -> None:
    spec = DatasetSpec(
        fps=10,
        image_shape=(16, 16, 3),
        state_names=("x", "y", "z"),
        action_names=("dx", "dy"),
        episodes_per_file=2,
        env_state_names=("mover_x", "mover_y"),
    )
    rng = np.random.default_rng(1)
    eps = [
        EpisodeData(
            e.images,
            e.states,
            e.actions,
            e.instruction,
            e.extra,
            rng.normal(size=(len(e.images), 2)),
        )
        for e in _episodes(3)
    ]
    _write(tmp_path, eps[:2], spec)
    _write(tmp_path, eps[2:], spec)  # resumes: stats and columns carry over
    ds = EpisodeDataset(tmp_path)
    assert ds.features["observation.environment_state"]["names"] == ["mover_x", "mover_y"]
    for i, ep in enumerate(eps):
        np.testing.assert_array_equal(ds.episode(i).env_states, ep.env_states.astype(np.float32))
    stats = json.loads((tmp_path / "meta" / "stats.json").read_text())
    all_env = np.concatenate([e.env_states for e in eps])
    np.testing.assert_allclose(
        stats["observation.environment_state"]["mean"], all_env.mean(0), rtol=1e-5
    )
    assert EpisodeDataset(tmp_path).episode(0).env_states is not None
    # a spec without the feature cannot take such episodes, and one with it needs them
    with (
        DatasetWriter(tmp_path / "plain", _spec()) as writer,
        pytest.raises(ValueError, match="env_states"),
    ):
        writer.add_episode(eps[0])
    with (
        DatasetWriter(tmp_path / "env", spec) as writer,
        pytest.raises(ValueError, match="environment_state"),
    ):
        writer.add_episode(_episodes(1)[0])
    assert _episodes(1)[0].env_states is None and ds.episode(0).states is not None


def test_spec_validation_names_field() -> None:
    with pytest.raises(ValueError, match="fps"):
        DatasetSpec(fps=0, image_shape=(8, 8, 3), state_names=(), action_names=("a",))
    with pytest.raises(ValueError, match="image_shape"):
        DatasetSpec(fps=10, image_shape=(8, 8), state_names=(), action_names=("a",))
    with pytest.raises(ValueError, match="image_format"):
        DatasetSpec(
            fps=10, image_shape=(8, 8, 3), state_names=(), action_names=("a",), image_format="jpg"
        )  # type: ignore[arg-type]
