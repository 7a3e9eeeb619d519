"""Robot demonstrations as training samples: LeRobot-format episodes -> ``RobotSample`` frames."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from rt2.backbones.grounding import GROUND_TARGETS
from rt2.data.format import ENV_STATE_KEY
from rt2.data.plan import PlanFormat
from rt2.data.reader import EpisodeDataset
from rt2.envs.tabletop.render import table_to_image
from rt2.samples import RobotSample, ground_targets


class RobotSource:
    """Frames of a set of episodes, held in memory: ``source[i]`` is a :class:`RobotSample`.

    With ``history=K`` each sample also carries the K frames before it and the actions taken
    there (the episode's first frame and action repeat at its start), for history-conditioned
    policies such as RT-1. With ``plan`` (and per-frame ``plan_states``) each sample carries its
    grounded plan text (ECoT). With
    ``chunk=K > 1`` a sample's action is the (K, D) chunk of this and the next K - 1 actions,
    NaN rows past the episode's end (their loss is masked, as LeRobot's ``action_is_pad``).
    With per-frame ``states`` each sample carries its (S,) ``observation.state``.
    """

    def __init__(
        self,
        images: list[np.ndarray] | np.ndarray,
        actions: list[np.ndarray],
        instructions: list[str],
        history: int = 0,
        plan: PlanFormat | None = None,
        plan_states: list[np.ndarray] | None = None,
        chunk: int = 1,
        states: list[np.ndarray] | None = None,
    ) -> None:
        if len(images) == 0:
            raise ValueError("a robot source needs at least one episode")
        if history < 0:
            raise ValueError(f"history must be >= 0, got {history}")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.chunk = chunk
        if (plan is None) != (plan_states is None):
            raise ValueError("a robot source needs both plan and plan_states, or neither")
        self.plan = plan
        self.plan_states = None if plan_states is None else np.concatenate(plan_states)  # (N, 2K)
        # (N, H, W, 3) uint8: per-episode arrays, or all frames in one array (kept, not copied)
        self.images = images if isinstance(images, np.ndarray) else np.concatenate(images)
        self.actions = np.concatenate(actions).astype(np.float64)  # (N, D)
        lengths = [len(a) for a in actions]
        if len(self.images) != sum(lengths):
            raise ValueError(f"{len(self.images)} images for {sum(lengths)} actions")
        self.episode_of = np.repeat(np.arange(len(lengths)), lengths)  # (N,)
        self.episode_start = np.repeat(np.cumsum([0, *lengths[:-1]]), lengths)  # (N,)
        self.episode_end = self.episode_start + np.repeat(lengths, lengths)  # (N,) exclusive
        self.instructions = instructions  # per episode
        self.history = history
        self.states = None if states is None else np.concatenate(states).astype(np.float64)
        if self.states is not None and len(self.states) != len(self.actions):
            raise ValueError(f"{len(self.states)} states for {len(self.actions)} actions")

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, i: int) -> RobotSample:
        past = past_actions = None
        if self.history:
            rows = np.maximum(np.arange(i - self.history, i), self.episode_start[i])
            past, past_actions = self.images[rows], self.actions[rows]  # (K, H, W, 3), (K, D)
        instruction = self.instructions[self.episode_of[i]]
        plan = where = None
        if self.plan is not None and self.plan_states is not None:
            plan = self.plan.text(self.plan_states[i])
            where = self._where(self.plan_states[i])
        action = self.actions[i]  # (D,)
        if self.chunk > 1:
            rows = np.arange(i, i + self.chunk)  # (K,)
            action = self.actions[np.minimum(rows, len(self.actions) - 1)].copy()  # (K, D)
            action[rows >= self.episode_end[i]] = np.nan
        return RobotSample(
            self.images[i],
            instruction,
            action,
            plan=plan,
            history=past,
            history_actions=past_actions,
            state=None if self.states is None else self.states[i],  # (S,)
            where=where,
        )

    def _where(self, state: np.ndarray) -> np.ndarray:
        """The grounding targets (K, 4) of a (2L,) plan state: each plan label that is a
        grounding target at its image (u, v) (the renderer's framing without camera jitter)
        and table (x, y)."""
        assert self.plan is not None
        known = {}
        for j, name in enumerate(self.plan.labels):
            if name in GROUND_TARGETS:
                xy = state[2 * j : 2 * j + 2]
                known[name] = (*table_to_image(xy), *xy)
        return ground_targets(**known)

    @property
    def num_episodes(self) -> int:
        return len(self.instructions)


def load_robot_sources(
    root: str | Path,
    eval_episodes: int,
    history: int = 0,
    plan: PlanFormat | None = None,
    chunk: int = 1,
    state: bool = False,
    cameras: tuple[str, ...] = (),
) -> tuple[RobotSource, RobotSource | None]:
    """Train and held-out sources (the last ``eval_episodes`` episodes) of a dataset directory;
    with ``plan``, samples carry plans written from ``observation.environment_state``; with
    ``state``, samples carry ``observation.state``; images are those of ``cameras`` ((C, H, W,
    3) per frame for two or more; default: the first camera)."""
    # one decoded video file per camera stays cached: the cameras of an episode alternate
    ds = EpisodeDataset(root, video_cache_files=max(2, len(cameras)))
    n = ds.num_episodes
    if n == 0:
        raise ValueError(f"dataset {root} has no episodes")
    held = min(eval_episodes, n - 1)
    found = ds.features.get(ENV_STATE_KEY, {}).get("shape")
    if plan is not None and found != [plan.dim]:
        raise ValueError(
            f"data.plan_bins needs {ENV_STATE_KEY} of size {plan.dim} in {root}, found {found}; "
            "collect the dataset again with this version of `rt2 collect` (the expert records its "
            "plan state)"
        )

    if state and ds.features.get("observation.state", {}).get("dtype") is None:
        raise ValueError(f"data.state=tokens needs observation.state, which {root} lacks")
    if len(cameras) > 1 and history:
        raise ValueError("model.history with several cameras is not supported: pick one camera")
    opts = dict(state=state, cameras=cameras)
    train = _source(ds, range(n - held), history, plan, chunk, **opts)
    held_out = _source(ds, range(n - held, n), history, plan, chunk, **opts) if held else None
    del ds
    # decoding leaves the parquet buffers in arrow's allocator; hand them back (5.6 of 8.2 GB
    # resident for 48k frames at 128 px before this)
    pa.default_memory_pool().release_unused()
    return train, held_out


def _source(
    ds: EpisodeDataset,
    part: range,
    history: int,
    plan: PlanFormat | None,
    chunk: int,
    state: bool = False,
    cameras: tuple[str, ...] = (),
) -> RobotSource:
    """Episodes ``part`` of ``ds``, decoded one by one into one array (peak: the frames once)."""
    lengths = [ds.episodes[i].length for i in part]
    rows = ds.episode_boundaries[:, 0]  # (E,) first row of each episode
    images: np.ndarray | None = None  # (N, [C,] H, W, 3) once the first frame size is known
    actions, instructions, states, robot_states = [], [], [], []
    start = 0
    for i, length in zip(part, lengths, strict=True):
        ep = ds.episode(i)
        views = _views(ds, ep.images, slice(rows[i], rows[i] + length), cameras)
        if images is None:
            images = np.empty((sum(lengths), *views.shape[1:]), np.uint8)
        images[start : start + length] = views
        start += length
        actions.append(ep.actions)
        instructions.append(ep.instruction)
        states.append(ep.env_states)
        robot_states.append(ep.states)
    assert images is not None  # part is never empty
    return RobotSource(
        images,
        actions,
        instructions,
        history,
        plan=plan,
        plan_states=None if plan is None else states,
        chunk=chunk,
        states=robot_states if state else None,
    )


def episodes_source(
    ds: EpisodeDataset, part: range, state: bool = False, cameras: tuple[str, ...] = ()
) -> RobotSource:
    """Episodes ``part`` (positions in ``ds.episodes``) of ``ds`` as a source of single actions
    with the given cameras and, with ``state``, ``observation.state``."""
    return _source(ds, part, 0, None, 1, state=state, cameras=cameras)


def _views(
    ds: EpisodeDataset, first: np.ndarray, rows: slice, cameras: tuple[str, ...]
) -> np.ndarray:
    """An episode's frames of ``cameras``: (T, H, W, 3) for one, (T, C, H, W, 3) for several
    (resized to the first camera's size); ``first``: its frames of the dataset's first camera."""
    keys = cameras or ds.image_keys[:1]
    views = [first if k == ds.image_keys[0] else ds.images(rows, k) for k in keys]
    if len(views) == 1:
        return views[0]
    h, w = views[0].shape[1:3]
    if any(v.shape[1:3] != (h, w) for v in views):
        import cv2

        views = [
            v if v.shape[1:3] == (h, w) else np.stack([cv2.resize(f, (w, h)) for f in v])
            for v in views
        ]
    return np.stack(views, axis=1)  # (T, C, H, W, 3)


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


def dataset_action_names(root: str | Path, key: str = "action") -> tuple[str, ...]:
    """The names of a dataset's ``action`` (or other vector ``key``) entries, from its
    ``meta/info.json``."""
    from rt2.data import format as fmt
    from rt2.data.features import vector_names

    return vector_names(fmt.read_json(Path(root) / fmt.INFO_PATH)["features"], key)


def dataset_cameras(
    root: str | Path, requested: tuple[str, ...] = (), kind: str = "vla"
) -> tuple[str, ...]:
    """The cameras a model of ``kind`` sees: ``requested`` (``data.cameras``) checked against
    the dataset's, or all of them in ``info.json`` order (RT-1: the first; it sees one)."""
    from rt2.data import format as fmt
    from rt2.data.features import resolve_cameras

    found = resolve_cameras(fmt.read_json(Path(root) / fmt.INFO_PATH)["features"], requested)
    if kind == "vla":
        return found
    if len(found) > 1 and requested:
        raise ValueError(f"data.cameras={list(found)}: RT-1 sees one camera; name one")
    return found[:1]
