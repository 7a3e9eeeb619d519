"""The reader fails loudly and clearly on datasets it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rt2.data import DatasetFormatError, DatasetSpec, DatasetWriter, EpisodeData, EpisodeDataset


def _small_dataset(root: Path) -> None:
    import numpy as np

    spec = DatasetSpec(fps=10, image_shape=(8, 8, 3), state_names=("x",), action_names=("dx",))
    with DatasetWriter(root, spec) as w:
        w.add_episode(
            EpisodeData(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 1)), np.zeros((2, 1)), "go")
        )


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        EpisodeDataset(tmp_path / "nope")


def test_missing_info_json(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match=r"meta/info\.json is missing"):
        EpisodeDataset(tmp_path)


def test_invalid_info_json(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta/info.json").write_text("{not json")
    with pytest.raises(DatasetFormatError, match="invalid JSON"):
        EpisodeDataset(tmp_path)


@pytest.mark.parametrize("version", ["v2.1", "v1.6", "v4.0"])
def test_unsupported_codebase_version(tmp_path: Path, version: str) -> None:
    _small_dataset(tmp_path)
    info = json.loads((tmp_path / "meta/info.json").read_text())
    info["codebase_version"] = version
    (tmp_path / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(DatasetFormatError, match=f"unsupported codebase_version '{version}'"):
        EpisodeDataset(tmp_path)


@pytest.mark.parametrize("field", ["fps", "features", "codebase_version"])
def test_missing_required_field(tmp_path: Path, field: str) -> None:
    _small_dataset(tmp_path)
    info = json.loads((tmp_path / "meta/info.json").read_text())
    del info[field]
    (tmp_path / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(DatasetFormatError, match=field):
        EpisodeDataset(tmp_path)


def test_missing_tasks_and_data(tmp_path: Path) -> None:
    _small_dataset(tmp_path)
    (tmp_path / "meta/tasks.parquet").unlink()
    with pytest.raises(DatasetFormatError, match=r"tasks\.parquet"):
        EpisodeDataset(tmp_path)


def test_missing_data_files(tmp_path: Path) -> None:
    _small_dataset(tmp_path)
    (tmp_path / "data/chunk-000/file-000.parquet").unlink()
    with pytest.raises(DatasetFormatError, match="is missing"):
        EpisodeDataset(tmp_path)


def test_resume_with_different_features_is_refused(tmp_path: Path) -> None:
    _small_dataset(tmp_path)
    other = DatasetSpec(fps=10, image_shape=(8, 8, 3), state_names=("x", "y"), action_names=("dx",))
    with pytest.raises(DatasetFormatError, match="features differ"):
        DatasetWriter(tmp_path, other)
