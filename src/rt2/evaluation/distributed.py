"""Sharded closed-loop evaluation: in this process, in local worker processes, or as Ray tasks.

Episode ``i`` of a suite depends only on the policy and seed ``config.seed + i`` (see
:mod:`rt2.evaluation.runner`), so the episodes of :func:`~rt2.evaluation.runner.plan_episodes`
are cut into shards that run anywhere and merge back into the serial run's records. A shard is
a few episodes of one suite (``num_envs`` by default, stepped in lockstep); each worker builds
the policy once from a :class:`PolicySpec` (what ``rt2 eval --policy`` takes) and keeps it for
the shards it runs next.

Equal means bit for bit for policies whose actions depend only on their own observation and
episode seed (random, the scripted experts; tested). A bf16 VLA's batched matmuls can round a
row differently when the other rows of its lockstep batch differ, so a sharded (or resumed) run
of a VLA may now and then move an action by one bin against the serial run.

``ray`` is an optional dependency (``pip install 'rt2[ray]'``): ``Workers(ray="local")`` starts
a local Ray instance with ``workers`` CPUs, any other address joins an existing cluster
(``"auto"``, ``"ray://HOST:10001"``) whose nodes have ``rt2`` installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rt2.actions import ActionSpace
from rt2.evaluation.runner import EpisodeJob, EpisodeRecord, EvalConfig, plan_episodes
from rt2.policies import Policy

LOCAL_RAY = "local"


@dataclass(frozen=True)
class PolicySpec:
    """A policy any process can rebuild: ``expert``, ``random``, a checkpoint path, ``rt2:NAME``
    or a server URL, with the arguments of :func:`~rt2.policies.load_policy`
    (``env="kitchen"``: the kitchen's own scripted expert; ``compile``: each process compiles
    its own copy)."""

    name: str
    action_space: ActionSpace | None = None
    seed: int = 0
    noise: float = 0.0
    env: str = "tabletop"
    compile: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("PolicySpec.name must be a policy name or path, got ''")

    def build(self) -> Policy:
        from rt2.policies import ExpertPolicy, load_policy

        if self.env == "kitchen" and self.name == "expert":
            return ExpertPolicy(self.noise, self.seed, _kitchen_expert)
        if self.env == "kitchen" and self.name == "blind-expert":
            raise ValueError(
                "--policy blind-expert: the kitchen's tasks list no candidate targets; use it "
                "on the tabletop (suites or task files)"
            )
        return load_policy(
            self.name,
            action_space=self.action_space,
            seed=self.seed,
            noise=self.noise,
            compile=self.compile,
        )


def _kitchen_expert(noise: float, seed: int) -> Any:
    from rt2.envs.kitchen.expert import KitchenExpert

    return KitchenExpert(noise=noise, seed=seed)


@dataclass(frozen=True)
class Workers:
    """Where episodes run: ``workers=0`` in this process; ``workers=N`` in N local processes;
    ``ray`` set: as Ray tasks (``workers`` of them at a time; 0: as many as the cluster has
    CPUs). Each worker runs torch with ``threads`` threads; ``shard`` episodes per task
    (default: the jobs spread over the workers, at most the config's ``num_envs``)."""

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
    pool: WorkerPool | None = None,
) -> list[EpisodeRecord]:
    """Run ``jobs`` (default: every episode of ``config``) where ``workers`` says; records come
    back in job order and equal the serial run's (up to their wall-clock ``seconds``).

    In process, ``policy`` (if given) is used instead of building ``spec`` again. With workers,
    ``on_episode`` is called for each record as its shard comes back; an open ``pool`` (kept by
    the caller across calls, so its workers keep their policies) is used instead of a new one.
    """
    from rt2.evaluation.runner import run_evaluation

    workers = pool.workers if pool is not None else (workers or Workers())
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
    # default: spread a small run over every worker, at most num_envs episodes in lockstep
    spread = -(-len(jobs) // max(1, workers.workers or config.num_envs))
    shards = shard_jobs(jobs, workers.shard or max(1, min(config.num_envs, spread)))
    video = str(video_dir) if video_dir is not None else None
    records: dict[tuple[str, int], EpisodeRecord] = {}
    with contextlib.nullcontext(pool) if pool is not None else WorkerPool(workers) as p:
        for batch in p.run(spec, config, shards, video):
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


# ---- the pool -----------------------------------------------------------------------------
class WorkerPool:
    """Worker processes or a Ray connection, open for as long as the ``with`` block: calls of
    :func:`evaluate` given this pool reuse its workers (and the policies they built). Local
    processes are spawned, not forked (torch's thread pools do not survive a fork); a local
    Ray instance started here is shut down on exit."""

    def __init__(self, workers: Workers) -> None:
        if workers.serial:
            raise ValueError("WorkerPool needs workers >= 2 or ray; serial runs need no pool")
        self.workers = workers
        self._executor: Any = None
        self._ray: Any = None
        self._started_ray = False

    def __enter__(self) -> WorkerPool:
        if self.workers.ray is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                self.workers.workers, mp_context=mp.get_context("spawn")
            )
        else:
            self._started_ray = _connect_ray(self.workers)
            import ray

            self._ray = ray
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
        if self._started_ray:
            self._ray.shutdown()
            self._started_ray = False

    def run(
        self,
        spec: PolicySpec,
        config: EvalConfig,
        shards: list[list[EpisodeJob]],
        video_dir: str | None,
    ) -> Iterator[list[EpisodeRecord]]:
        """Each shard's records, as the shards finish."""
        threads = self.workers.threads
        if self._executor is not None:
            from concurrent.futures import FIRST_COMPLETED, wait

            pending = {
                self._executor.submit(run_shard, spec, config, s, video_dir, threads)
                for s in shards
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
            return
        if self._ray is None:
            raise RuntimeError("WorkerPool.run outside its `with` block")
        ray = self._ray
        task = ray.remote(num_cpus=1)(run_shard)  # one CPU per shard task
        limit = self.workers.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue, in_flight = list(shards), []
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                in_flight.append(task.remote(spec, config, queue.pop(0), video_dir, threads))
            done, in_flight = ray.wait(in_flight, num_returns=1)
            yield ray.get(done[0])


def _connect_ray(workers: Workers) -> bool:
    """``ray.init`` for ``workers.ray`` unless Ray is up already; True if it started it."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            "--ray needs the optional dependency ray: pip install 'rt2[ray]' (or pip install ray)"
        ) from err
    if ray.is_initialized():
        return False
    if workers.ray == LOCAL_RAY:
        ray.init(
            num_cpus=workers.workers or None,
            include_dashboard=False,
            log_to_driver=False,
            object_store_memory=200 * 1024**2,
        )
    else:
        ray.init(address=workers.ray, log_to_driver=False)
    return True
