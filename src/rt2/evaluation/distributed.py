"""Sharded closed-loop evaluation: in this process, in local worker processes, or as Ray tasks.

Episode ``i`` of a suite depends only on the policy and seed ``config.seed + i`` (see
:mod:`rt2.evaluation.runner`), so the episodes of :func:`~rt2.evaluation.runner.plan_episodes`
are cut into shards that run anywhere and merge back into the serial run's records. A shard is
a few episodes of one suite (``num_envs`` by default, stepped in lockstep); each worker builds
the policy once from a :class:`PolicySpec` (what ``rt2 eval --policy`` takes) and keeps it for
the shards it runs next.

``ray`` is an optional dependency (``pip install 'rt2[ray]'``): ``Workers(ray="local")`` starts
a local Ray instance with ``workers`` CPUs, any other address joins an existing cluster
(``"auto"``, ``"ray://HOST:10001"``) whose nodes have ``rt2`` installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt2.actions import ActionSpace
from rt2.evaluation.policies import Policy
from rt2.evaluation.runner import EpisodeJob, EpisodeRecord, EvalConfig, plan_episodes

LOCAL_RAY = "local"


@dataclass(frozen=True)
class PolicySpec:
    """A policy any process can rebuild: ``expert``, ``random``, a checkpoint path, ``rt2:NAME``
    or a server URL, with the arguments of :func:`~rt2.evaluation.policies.load_policy`
    (``env="kitchen"``: the kitchen's own scripted expert)."""

    name: str
    action_space: ActionSpace | None = None
    seed: int = 0
    noise: float = 0.0
    env: str = "tabletop"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("PolicySpec.name must be a policy name or path, got ''")

    def build(self) -> Policy:
        from rt2.evaluation.policies import ExpertPolicy, load_policy

        if self.env == "kitchen" and self.name == "expert":
            return ExpertPolicy(self.noise, self.seed, _kitchen_expert)
        return load_policy(
            self.name, action_space=self.action_space, seed=self.seed, noise=self.noise
        )


def _kitchen_expert(noise: float, seed: int) -> Any:
    from rt2.envs.kitchen.expert import KitchenExpert

    return KitchenExpert(noise=noise, seed=seed)


@dataclass(frozen=True)
class Workers:
    """Where episodes run: ``workers=0`` in this process; ``workers=N`` in N local processes;
    ``ray`` set: as Ray tasks (``workers`` of them at a time; 0: as many as the cluster has
    CPUs). Each worker runs torch with ``threads`` threads; ``shard`` episodes per task
    (default: the config's ``num_envs``)."""

    workers: int = 0
    ray: str | None = None
    threads: int = 1
    shard: int | None = None

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"Workers.workers must be >= 0, got {self.workers}")
        if self.threads < 1:
            raise ValueError(f"Workers.threads must be >= 1, got {self.threads}")
        if self.shard is not None and self.shard < 1:
            raise ValueError(f"Workers.shard must be >= 1 or None, got {self.shard}")
        if self.ray is not None and not self.ray.strip():
            raise ValueError("Workers.ray must be 'local' or a Ray address, got ''")

    @property
    def serial(self) -> bool:
        return self.ray is None and self.workers <= 1

    def describe(self) -> str:
        if self.ray is not None:
            return f"ray ({self.ray}, {self.workers or 'all'} workers)"
        return "in process" if self.serial else f"{self.workers} local worker processes"


def shard_jobs(jobs: Sequence[EpisodeJob], size: int) -> list[list[EpisodeJob]]:
    """Consecutive runs of at most ``size`` jobs, never mixing suites (lockstep is per suite)."""
    shards: list[list[EpisodeJob]] = []
    for job in jobs:
        if shards and len(shards[-1]) < size and shards[-1][-1].suite == job.suite:
            shards[-1].append(job)
        else:
            shards.append([job])
    return shards


def evaluate(
    spec: PolicySpec,
    config: EvalConfig,
    jobs: Sequence[EpisodeJob] | None = None,
    workers: Workers | None = None,
    on_episode: Callable[[EpisodeRecord], None] | None = None,
    video_dir: Path | None = None,
    policy: Policy | None = None,
) -> list[EpisodeRecord]:
    """Run ``jobs`` (default: every episode of ``config``) where ``workers`` says; records come
    back in job order and equal the serial run's (up to their wall-clock ``seconds``).

    In process, ``policy`` (if given) is used instead of building ``spec`` again. With workers,
    ``on_episode`` is called for each record as its shard comes back.
    """
    from rt2.evaluation.runner import run_evaluation

    workers = workers or Workers()
    jobs = list(plan_episodes(config) if jobs is None else jobs)
    if not jobs:
        return []
    if workers.serial:
        return run_evaluation(
            config,
            policy or spec.build(),
            jobs=jobs,
            on_episode=on_episode,
            video_dir=video_dir,
        )
    shards = shard_jobs(jobs, workers.shard or config.num_envs)
    video = str(video_dir) if video_dir is not None else None
    run = _ray_shards if workers.ray is not None else _process_shards
    records: dict[tuple[str, int], EpisodeRecord] = {}
    for batch in run(spec, config, shards, video, workers):
        for rec in batch:
            records[(rec.suite, rec.index)] = rec
            if on_episode is not None:
                on_episode(rec)
    return [records[(j.suite, j.index)] for j in jobs]


# ---- in a worker --------------------------------------------------------------------------
_POLICIES: dict[PolicySpec, Policy] = {}  # per worker process: built once, reused by its shards


def run_shard(
    spec: PolicySpec,
    config: EvalConfig,
    jobs: list[EpisodeJob],
    video_dir: str | None = None,
    threads: int = 1,
) -> list[EpisodeRecord]:
    """Run one shard in this process with a cached policy (the unit a worker executes)."""
    import torch

    from rt2.evaluation.runner import run_evaluation

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if spec not in _POLICIES:
        _POLICIES[spec] = spec.build()
    out = Path(video_dir) if video_dir is not None else None
    return run_evaluation(config, _POLICIES[spec], jobs=jobs, video_dir=out)


def _process_shards(
    spec: PolicySpec,
    config: EvalConfig,
    shards: list[list[EpisodeJob]],
    video_dir: str | None,
    workers: Workers,
) -> Iterator[list[EpisodeRecord]]:
    """Shards on ``workers.workers`` spawned processes (not forked: torch's thread pools do not
    survive a fork), yielded as they finish."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    n = min(workers.workers, len(shards))
    with ProcessPoolExecutor(n, mp_context=mp.get_context("spawn")) as pool:
        pending = {
            pool.submit(run_shard, spec, config, shard, video_dir, workers.threads)
            for shard in shards
        }
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()


def _ray_shards(
    spec: PolicySpec,
    config: EvalConfig,
    shards: list[list[EpisodeJob]],
    video_dir: str | None,
    workers: Workers,
) -> Iterator[list[EpisodeRecord]]:
    """Shards as Ray tasks (one CPU each, at most ``workers.workers`` in flight), yielded as
    they finish; a local instance started here is shut down afterwards."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "--ray needs the optional dependency ray: pip install 'rt2[ray]' (or pip install ray)"
        ) from err
    started = False
    if not ray.is_initialized():
        if workers.ray == LOCAL_RAY:
            ray.init(
                num_cpus=workers.workers or None,
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=200 * 1024**2,
            )
        else:
            ray.init(address=workers.ray, log_to_driver=False)
        started = True
    try:
        task = ray.remote(num_cpus=1)(run_shard)
        limit = workers.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue = list(shards)
        pending: list[Any] = []
        while queue or pending:
            while queue and len(pending) < limit:
                pending.append(task.remote(spec, config, queue.pop(0), video_dir, workers.threads))
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()
