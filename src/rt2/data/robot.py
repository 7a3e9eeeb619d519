"""Robot demonstrations as training samples: LeRobot-format episodes -> ``RobotSample`` frames."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from rt2.batching import RobotSample
from rt2.data.reader import EpisodeDataset


class RobotSource:
    """Frames of a set of episodes, held in memory: ``source[i]`` is a :class:`RobotSample`.

    With ``history=K`` each sample also carries the K frames before it (the episode's first
    frame repeats at its start), for history-conditioned policies such as RT-1.
    """

    def __init__(
        self,
        images: list[np.ndarray],
        actions: list[np.ndarray],
        instructions: list[str],
        history: int = 0,
    ) -> None:
        if not images:
            raise ValueError("a robot source needs at least one episode")
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        self.images = np.concatenate(images)  # (N, H, W, 3) uint8
        self.actions = np.concatenate(actions).astype(np.float64)  # (N, D)
        lengths = [len(a) for a in actions]
        self.episode_of = np.repeat(np.arange(len(lengths)), lengths)  # (N,)
        self.episode_start = np.repeat(np.cumsum([0, *lengths[:-1]]), lengths)  # (N,)
        self.instructions = instructions  # per episode
        self.history = history

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, i: int) -> RobotSample:
        past = None
        if self.history:
            rows = np.maximum(np.arange(i - self.history, i), self.episode_start[i])
            past = self.images[rows]  # (K, H, W, 3)
        instruction = self.instructions[self.episode_of[i]]
        return RobotSample(self.images[i], instruction, self.actions[i], history=past)

    @property
    def num_episodes(self) -> int:
        return len(self.instructions)


def load_robot_sources(
    root: str | Path, eval_episodes: int, history: int = 0
) -> tuple[RobotSource, RobotSource | None, EpisodeDataset]:
    """Train and held-out sources (the last ``eval_episodes`` episodes) of a dataset directory."""
    ds = EpisodeDataset(root)
    n = ds.num_episodes
    if n == 0:
        raise ValueError(f"dataset {root} has no episodes")
    held = min(eval_episodes, n - 1)
    eps = [ds.episode(i) for i in range(n)]

    def source(part: list) -> RobotSource:
        images = [e.images for e in part]
        return RobotSource(
            images, [e.actions for e in part], [e.instruction for e in part], history
        )

    return source(eps[: n - held]), (source(eps[n - held :]) if held else None), ds


def dataset_fingerprint(root: str | Path) -> dict[str, object]:
    """Identify a dataset: hash of its metadata plus the names and sizes of its files."""
    root = Path(root)
    h = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
        rel = p.relative_to(root).as_posix()
        h.update(rel.encode())
        h.update(str(p.stat().st_size).encode())
        if rel.startswith("meta/") and p.suffix == ".json":
            h.update(p.read_bytes())
    info = json.loads((root / "meta" / "info.json").read_text())
    return {
        "path": str(root.resolve()),
        "sha256": h.hexdigest(),
        "episodes": info.get("total_episodes"),
        "frames": info.get("total_frames"),
    }
