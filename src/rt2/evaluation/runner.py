"""Closed-loop evaluation: N envs stepped in lockstep, one batched policy call per step.

Episode ``i`` of a suite always uses seed ``config.seed + i``, whatever the batching; a run
can therefore be sharded across machines by splitting :func:`plan_episodes` (e.g.
``jobs[k::num_shards]``) and concatenating the records.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rt2.evaluation.chunking import ChunkExecution, ChunkExecutor
from rt2.policies import Policy, infer_batch
from rt2.samples import PromptFormat

EnvFactory = Callable[[str], Any]  # suite -> gymnasium env

#: The RT-2 paper's generalization splits, and every suite of its evaluation in report order.
UNSEEN_SUITES = ("unseen_objects", "unseen_backgrounds", "unseen_environments")
PAPER_SUITES = ("seen", *UNSEEN_SUITES, "emergent")
#: Evaluation episode i uses seed EVAL_SEED + i: disjoint from the collection seeds (0, 1, ...).
EVAL_SEED = 10_000


@dataclass(frozen=True)
class EvalConfig:
    """Which suites, how many episodes each, and how to build and batch the envs."""

    suites: tuple[str, ...]
    episodes: int  # per suite
    seed: int = 0
    num_envs: int = 8
    image_size: int = 128
    max_steps: int | None = None
    task_file: str | None = None
    terminate_action: bool = False
    videos: int = 0  # episodes per suite recorded as videos
    env_id: str = "rt2/Tabletop-v0"
    execution: ChunkExecution = field(default_factory=ChunkExecution)  # chunked policies

    def __post_init__(self) -> None:
        object.__setattr__(self, "suites", tuple(self.suites))
        if not self.suites or any(not s for s in self.suites):
            raise ValueError(f"EvalConfig.suites must be non-empty names, got {self.suites!r}")
        if len(set(self.suites)) != len(self.suites):
            raise ValueError(f"EvalConfig.suites has duplicates: {self.suites!r}")
        if self.episodes < 1:
            raise ValueError(f"EvalConfig.episodes must be >= 1, got {self.episodes}")
        if self.num_envs < 1:
            raise ValueError(f"EvalConfig.num_envs must be >= 1, got {self.num_envs}")
        if self.image_size < 8:
            raise ValueError(f"EvalConfig.image_size must be >= 8, got {self.image_size}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"EvalConfig.max_steps must be >= 1 or None, got {self.max_steps}")
        if self.videos < 0:
            raise ValueError(f"EvalConfig.videos must be >= 0, got {self.videos}")

    def make_env(self, suite: str) -> Any:
        """A simulator for ``suite`` (imports :mod:`rt2.envs` to register it)."""
        import gymnasium as gym

        import rt2.envs  # noqa: F401  (registers rt2/Tabletop-v0)

        kwargs: dict[str, Any] = {
            "suite": suite,
            "image_size": self.image_size,
            "terminate_action": self.terminate_action,
            "task_file": self.task_file,
        }
        if self.max_steps is not None:
            kwargs["max_steps"] = self.max_steps
        return gym.make(self.env_id, disable_env_checker=True, **kwargs)


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to run: the shardable unit of an evaluation."""

    suite: str
    index: int
    seed: int
    record_video: bool = False


@dataclass
class EpisodeRecord:
    """The outcome of one episode (one JSONL line of the report)."""

    suite: str
    index: int
    seed: int
    success: bool
    steps: int
    terminated: bool
    truncated: bool
    task_family: str
    task_id: str
    split_group: str
    instruction: str
    seconds: float
    video: str | None = None
    concept: str = ""  # what the instruction refers through (symbol, math, category, ...)
    language: str = ""  # the instruction's language (en, fr, de, es)
    # referents (rt2.envs.tabletop.referents), None where the env reports none (kitchen, old logs):
    mover_referent: str | None = None  # the object the policy moved ("" for none)
    target_referent: str | None = None  # the candidate target it took that object to
    mover_correct: bool | None = None
    target_correct: bool | None = None
    mover_chance: float | None = None  # what a uniform pick among the candidates gets
    target_chance: float | None = None
    both_chance: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeRecord:
        """The inverse of :meth:`to_dict` (records written before a field existed get its
        default)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class _Slot:
    job: EpisodeJob
    obs: dict[str, Any]
    info: dict[str, Any]
    start: float
    steps: int = 0
    frames: list[np.ndarray] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)  # the policy's plan for frames[t], if any


def plan_episodes(config: EvalConfig) -> list[EpisodeJob]:
    """All episodes of an evaluation, suite by suite; episode i uses seed ``seed + i``."""
    return [
        EpisodeJob(suite, i, config.seed + i, record_video=i < config.videos)
        for suite in config.suites
        for i in range(config.episodes)
    ]


VideoSink = Callable[[EpisodeRecord, list[np.ndarray], list[str]], str | None]  # frames, captions


def run_jobs(
    jobs: Sequence[EpisodeJob],
    policy: Policy,
    env_factory: EnvFactory,
    num_envs: int = 8,
    on_episode: Callable[[EpisodeRecord], None] | None = None,
    video_sink: VideoSink | None = None,
    max_episode_steps: int = 10_000,
) -> list[EpisodeRecord]:
    """Run ``jobs`` closed loop; returns records in job order.

    Jobs are grouped by suite; each suite gets ``min(num_envs, len(jobs))`` envs.
    """
    records: dict[tuple[str, int], EpisodeRecord] = {}
    for suite in dict.fromkeys(j.suite for j in jobs):
        suite_jobs = [j for j in jobs if j.suite == suite]
        envs = [env_factory(suite) for _ in range(min(num_envs, len(suite_jobs)))]
        try:
            for rec in _run_lockstep(
                suite_jobs, policy, envs, on_episode, video_sink, max_episode_steps
            ):
                records[(rec.suite, rec.index)] = rec
        finally:
            for env in envs:
                env.close()
    return [records[(j.suite, j.index)] for j in jobs]


def _run_lockstep(
    jobs: list[EpisodeJob],
    policy: Policy,
    envs: list[Any],
    on_episode: Callable[[EpisodeRecord], None] | None,
    video_sink: VideoSink | None,
    max_episode_steps: int,
) -> list[EpisodeRecord]:
    queue = deque(jobs)
    slots: list[_Slot | None] = [None] * len(envs)
    done: list[EpisodeRecord] = []
    if hasattr(policy, "bind"):
        policy.bind(envs)
    policy.reset()

    def start(i: int) -> None:
        if not queue:
            slots[i] = None
            return
        job = queue.popleft()
        obs, info = envs[i].reset(seed=job.seed)
        if hasattr(policy, "start_episode"):
            policy.start_episode(i, job.seed)
        else:
            policy.reset()
        slot = _Slot(job, obs, info, time.perf_counter())
        if job.record_video:
            slot.frames.append(np.asarray(envs[i].render()))
        slots[i] = slot

    for i in range(len(envs)):
        start(i)
    while any(s is not None for s in slots):
        active = [i for i, s in enumerate(slots) if s is not None]
        batch = [{**slots[i].obs, "env_slot": i} for i in active]  # type: ignore[union-attr]
        actions = infer_batch(policy, batch)  # (B, D)
        plans = _plans(policy, len(active))
        for k, i in enumerate(active):
            slot = slots[i]
            assert slot is not None
            if slot.job.record_video:
                slot.captions.append(plans[k])
            obs, _, terminated, truncated, info = envs[i].step(actions[k])
            slot.obs, slot.info, slot.steps = obs, info, slot.steps + 1
            if slot.job.record_video:
                slot.frames.append(np.asarray(envs[i].render()))
            if not (terminated or truncated or slot.steps >= max_episode_steps):
                continue
            rec = EpisodeRecord(
                suite=slot.job.suite,
                index=slot.job.index,
                seed=slot.job.seed,
                success=bool(info.get("success", False)),
                steps=slot.steps,
                terminated=bool(terminated),
                truncated=bool(truncated or not terminated),
                task_family=str(info.get("task_family", "")),
                task_id=str(info.get("task_id", "")),
                split_group=str(info.get("split_group", "")),
                instruction=str(obs.get("instruction", "")),
                seconds=time.perf_counter() - slot.start,
                concept=str(info.get("concept") or ""),
                language=str(info.get("language") or ""),
                **_referent_fields(info.get("referent")),
            )
            if slot.job.record_video and video_sink is not None:
                rec.video = video_sink(rec, slot.frames, slot.captions)
            done.append(rec)
            if on_episode is not None:
                on_episode(rec)
            start(i)
    return done


def _referent_fields(ref: dict[str, Any] | None) -> dict[str, Any]:
    """The record's referent fields from an env's ``info["referent"]`` (none: none)."""
    if not ref:
        return {}
    return {
        "mover_referent": str(ref["mover"]),
        "target_referent": str(ref["target"]),
        "mover_correct": bool(ref["mover_correct"]),
        "target_correct": bool(ref["target_correct"]),
        "mover_chance": float(ref["mover_chance"]),
        "target_chance": float(ref["target_chance"]),
        "both_chance": float(ref["both_chance"]),
    }


def _plans(policy: Policy, n: int) -> list[str]:
    """The plans a chain-of-thought policy wrote in its latest batch call ("" for none)."""
    plans = getattr(getattr(policy, "last_result", None), "plans", None)
    if not isinstance(plans, list) or len(plans) != n:
        return [""] * n
    fmt = PromptFormat()
    return [f"plan: {fmt.plan_of(p)}" if isinstance(p, str) and p.strip() else "" for p in plans]


def run_evaluation(
    config: EvalConfig,
    policy: Policy,
    env_factory: EnvFactory | None = None,
    jobs: Sequence[EpisodeJob] | None = None,
    on_episode: Callable[[EpisodeRecord], None] | None = None,
    video_dir: Path | None = None,
) -> list[EpisodeRecord]:
    """Evaluate ``policy`` on ``config`` (or on a shard ``jobs`` of :func:`plan_episodes`)."""
    from rt2.evaluation.videos import write_episode_video

    sink: VideoSink | None = None
    if video_dir is not None:

        def sink(rec: EpisodeRecord, frames: list[np.ndarray], captions: list[str]) -> str | None:
            name = f"{rec.suite}_{rec.index:04d}_{'success' if rec.success else 'failure'}.gif"
            write_episode_video(
                frames, rec.instruction, video_dir / name, success=rec.success, captions=captions
            )
            return name

    max_steps = 10 * config.max_steps if config.max_steps else 10_000
    return run_jobs(
        list(jobs) if jobs is not None else plan_episodes(config),
        ChunkExecutor(policy, config.execution),  # plays (B, K, D) chunks; (B, D) passes through
        env_factory or config.make_env,
        num_envs=config.num_envs,
        on_episode=on_episode,
        video_sink=sink,
        max_episode_steps=max_steps,
    )
