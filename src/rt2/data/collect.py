"""Collect scripted-expert demonstrations into a LeRobot v3.0 dataset (resumable).

Episode attempt ``k`` (counting from 0 over the whole dataset's life) resets the env with seed
``seed + k``; the attempt number is stored per episode, so a resumed run continues with the next
seed and a collection split over runs equals one uninterrupted run.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow.parquet as pq

from rt2.data import format as fmt
from rt2.data.writer import DatasetSpec, DatasetWriter, EpisodeData


class Expert(Protocol):
    """A scripted policy reading the simulator's true state.

    Optional extras, recorded when present: ``clean_action`` (the noise-free label of the last
    ``act``) and ``plan_names`` + ``plan_state`` (privileged state the expert planned with, stored
    as ``observation.environment_state``).
    """

    def reset(self) -> None: ...

    def act(self, env: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class CollectConfig:
    """What to collect and where; validated on construction."""

    out: Path
    episodes: int
    suite: str = "seen"
    env_id: str = "rt2/Tabletop-v0"
    image_size: int = 128
    max_steps: int | None = None  # None: the env's default episode limit
    noise: float = 0.0
    # share of episodes that first head for another object (tabletop expert; labels stay clean)
    detour: float = 0.0
    seed: int = 0
    only_successful: bool = False
    terminate_action: bool = False
    task_file: str | None = None
    image_format: str = "image"
    episodes_per_file: int = 50
    png_level: int = 1  # zlib level of PNG frames: 0 is ~2.5x faster to write, ~3x larger
    clean_labels: bool = True  # with noise: record the expert's noise-free action as the label
    max_attempts_factor: int = 10  # give up after episodes * factor failed attempts

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        if self.episodes < 1:
            raise ValueError(f"CollectConfig.episodes must be >= 1, got {self.episodes}")
        if self.image_size < 8:
            raise ValueError(f"CollectConfig.image_size must be >= 8, got {self.image_size}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"CollectConfig.max_steps must be >= 1 or None, got {self.max_steps}")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"CollectConfig.noise must be in [0, 1], got {self.noise}")
        if not 0.0 <= self.detour <= 1.0:
            raise ValueError(f"CollectConfig.detour must be in [0, 1], got {self.detour}")
        if self.detour and self.env_id != "rt2/Tabletop-v0":
            raise ValueError(
                f"CollectConfig.detour: only the tabletop expert detours, not {self.env_id}"
            )
        if self.image_format not in ("image", "video"):
            raise ValueError(
                f"CollectConfig.image_format must be 'image' or 'video', got {self.image_format!r}"
            )
        if self.max_attempts_factor < 1:
            raise ValueError(
                f"CollectConfig.max_attempts_factor must be >= 1, got {self.max_attempts_factor}"
            )

    def make_env(self) -> Any:
        """The simulator this config describes (imports :mod:`rt2.envs` to register it)."""
        import gymnasium as gym

        import rt2.envs  # noqa: F401  (registers rt2/Tabletop-v0)

        kwargs: dict[str, Any] = {
            "suite": self.suite,
            "image_size": self.image_size,
            "terminate_action": self.terminate_action,
            "task_file": self.task_file,
        }
        if self.max_steps is not None:
            kwargs["max_steps"] = self.max_steps
        return gym.make(self.env_id, disable_env_checker=True, **kwargs)

    def make_expert(self, seed: int) -> Expert:
        if self.env_id == "rt2/Kitchen-v0":
            from rt2.envs.kitchen import KitchenExpert

            return KitchenExpert(noise=self.noise, seed=seed)
        from rt2.envs import TabletopExpert

        return TabletopExpert(noise=self.noise, seed=seed, detour=self.detour)


@dataclass
class CollectStats:
    """Counters and where the time went."""

    written: int = 0  # episodes in the dataset at the end (including resumed ones)
    new_episodes: int = 0
    attempts: int = 0  # attempts made by this run
    successes: int = 0  # successful attempts made by this run
    steps: int = 0  # env steps made by this run
    interrupted: bool = False
    seconds: dict[str, float] = field(
        default_factory=lambda: {"env": 0.0, "expert": 0.0, "writer": 0.0, "total": 0.0}
    )

    @property
    def steps_per_second(self) -> float:
        return self.steps / max(self.seconds["total"], 1e-9)


EpisodeCallback = Callable[[CollectStats, bool], None]


class _StopRequestedError(Exception):
    """Raised inside an episode when a stop signal arrived; the episode is dropped."""


@contextmanager
def _graceful_signals(flag: list[bool]) -> Iterator[None]:
    """SIGINT/SIGTERM set ``flag[0]`` (the loop stops at the next step, outside any file write);
    a second signal raises KeyboardInterrupt at once."""

    def handler(signum: int, frame: Any) -> None:
        if flag[0]:
            raise KeyboardInterrupt(f"signal {signum}")
        flag[0] = True

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not in the main thread: keep the default behaviour
        yield
        return
    try:
        yield
    finally:
        for sig, prev in previous.items():
            signal.signal(sig, prev)


def _next_attempt(root: Path) -> int:
    """The attempt counter after the last committed episode (0 for a new dataset)."""
    info_path = root / fmt.INFO_PATH
    if not info_path.exists():
        return 0
    committed = int(fmt.read_json(info_path).get("total_episodes", 0))
    best = -1
    for f in (root / fmt.EPISODES_DIR).glob("chunk-*/file-*.parquet"):
        t = pq.read_table(f)
        if "attempt" not in t.column_names:
            continue
        for ep, att in zip(
            t.column("episode_index").to_pylist(), t.column("attempt").to_pylist(), strict=True
        ):
            if ep < committed:
                best = max(best, int(att))
    return best + 1 if best >= 0 else committed


def run_episode(
    env: Any,
    expert: Expert,
    seed: int,
    stats: CollectStats,
    stop: list[bool] | None = None,
    clean_labels: bool = True,
) -> tuple[EpisodeData, dict[str, Any]]:
    """Roll out one expert episode; frame t pairs observation t with the action taken at t."""
    t0 = time.perf_counter()
    obs, info = env.reset(seed=seed)
    expert.reset()
    images, states, actions, plans = [obs["image"]], [obs["state"]], [], []
    t_env = time.perf_counter() - t0
    t_expert = 0.0
    while True:
        if stop is not None and stop[0]:
            raise _StopRequestedError
        t1 = time.perf_counter()
        action = np.asarray(expert.act(env), dtype=np.float32)
        t2 = time.perf_counter()
        obs, _, terminated, truncated, info = env.step(action)
        t_env += time.perf_counter() - t2
        t_expert += t2 - t1
        # with noise, execute the noisy action but record the expert's clean one (DART-style
        # corrective labels); experts without ``clean_action`` record what was executed
        label = getattr(expert, "clean_action", action) if clean_labels else action
        actions.append(np.asarray(label, dtype=np.float32))
        if getattr(expert, "plan_names", ()):
            plans.append(np.asarray(expert.plan_state, dtype=np.float32))  # type: ignore[attr-defined]
        stats.steps += 1
        if terminated or truncated:
            break
        images.append(obs["image"])
        states.append(obs["state"])
    stats.seconds["env"] += t_env
    stats.seconds["expert"] += t_expert
    extra = {
        "success": bool(info.get("success", False)),
        "task_family": str(info.get("task_family", "")),
        "task_id": str(info.get("task_id", "")),
        "suite": str(info.get("suite", "")),
        "split_group": str(info.get("split_group", "")),
        "seed": int(seed),
    }
    episode = EpisodeData(
        images=np.stack(images),
        states=np.stack(states).astype(np.float32),
        actions=np.stack(actions),
        instruction=str(obs["instruction"]),
        extra=extra,
        env_states=np.stack(plans) if plans else None,
    )
    return episode, extra


def collect(
    config: CollectConfig,
    env_factory: Callable[[], Any] | None = None,
    expert_factory: Callable[[int], Expert] | None = None,
    on_episode: EpisodeCallback | None = None,
    action_names: tuple[str, ...] | None = None,
) -> CollectStats:
    """Collect until ``config.out`` holds ``config.episodes`` episodes; returns counters.

    Ctrl-C or SIGTERM stops at the next step and flushes every complete episode
    (``stats.interrupted``); a second signal aborts at once (files stay consistent).
    """
    from rt2.actions import ActionSpace

    env = (env_factory or config.make_env)()
    make_expert = expert_factory or config.make_expert
    start = time.perf_counter()
    stats = CollectStats()
    try:
        obs, _ = env.reset(seed=config.seed)
        state_dim = int(np.asarray(obs["state"]).shape[0])
        names = (
            action_names
            or getattr(getattr(env.unwrapped, "action_spec", None), "names", None)
            or ActionSpace.preset("language_table", terminate=config.terminate_action).names
        )
        state_names = getattr(env.unwrapped, "state_names", None)
        if state_names is None and env_factory is None:
            import rt2.envs

            state_names = rt2.envs.STATE_NAMES
        if state_names is None or len(state_names) != state_dim:
            state_names = tuple(f"state_{i}" for i in range(state_dim))
        spec = DatasetSpec(
            fps=int(getattr(env.unwrapped, "metadata", {}).get("render_fps", 10) or 10),
            image_shape=tuple(np.asarray(obs["image"]).shape),
            state_names=tuple(state_names),
            action_names=tuple(names),
            image_format=config.image_format,  # type: ignore[arg-type]
            robot_type="tabletop_pusher",
            episodes_per_file=config.episodes_per_file,
            env_state_names=tuple(getattr(make_expert(config.seed), "plan_names", ())),
        )
        attempt = _next_attempt(config.out)
        writer = DatasetWriter(config.out, spec, png_level=config.png_level)
        stats.written = writer.num_episodes
        max_attempts = config.episodes * config.max_attempts_factor
        stop = [False]
        try:
            with _graceful_signals(stop):
                while writer.num_episodes + writer.num_pending < config.episodes:
                    if stats.attempts >= max_attempts:
                        raise RuntimeError(
                            f"gave up after {stats.attempts} attempts with only {stats.successes} successes; "
                            "the expert fails too often for --only-successful"
                        )
                    episode, extra = run_episode(
                        env,
                        make_expert(config.seed + attempt),
                        config.seed + attempt,
                        stats,
                        stop,
                        clean_labels=config.clean_labels,
                    )
                    extra["attempt"] = attempt
                    attempt += 1
                    stats.attempts += 1
                    stats.successes += int(extra["success"])
                    keep = extra["success"] or not config.only_successful
                    if keep:
                        t0 = time.perf_counter()
                        writer.add_episode(episode)
                        stats.seconds["writer"] += time.perf_counter() - t0
                        stats.new_episodes += 1
                    stats.written = writer.num_episodes + writer.num_pending
                    if on_episode is not None:
                        on_episode(stats, keep)
        except (KeyboardInterrupt, _StopRequestedError):
            stats.interrupted = True
        finally:
            t0 = time.perf_counter()
            writer.close()
            stats.seconds["writer"] += time.perf_counter() - t0
            stats.written = writer.num_episodes
    finally:
        env.close()
        stats.seconds["total"] = time.perf_counter() - start
    return stats
