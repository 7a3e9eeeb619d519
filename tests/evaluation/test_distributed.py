"""Sharded evaluation: local worker processes and Ray tasks give the serial run's records."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from rt2.cli import main
from rt2.evaluation import EpisodeRecord, EvalConfig, plan_episodes
from rt2.evaluation.distributed import PolicySpec, WorkerPool, Workers, evaluate, shard_jobs


def outcomes(records: list[EpisodeRecord]) -> list[dict[str, Any]]:
    """Everything about each episode but its wall-clock time."""
    return [{k: v for k, v in asdict(r).items() if k != "seconds"} for r in records]


def test_shards_keep_order_and_never_mix_suites() -> None:
    jobs = plan_episodes(EvalConfig(("seen", "emergent"), 5))
    shards = shard_jobs(jobs, 2)
    assert [len(s) for s in shards] == [2, 2, 1, 2, 2, 1]
    assert all(len({j.suite for j in s}) == 1 for s in shards)
    assert [j for s in shards for j in s] == jobs


def test_workers_validate_their_fields() -> None:
    with pytest.raises(ValueError, match="workers"):
        Workers(-1)
    with pytest.raises(ValueError, match="threads"):
        Workers(2, threads=0)
    with pytest.raises(ValueError, match="ray"):
        Workers(2, ray=" ")
    assert Workers().serial and Workers(1).serial
    assert not Workers(2).serial and not Workers(0, ray="local").serial


@pytest.mark.slow
def test_local_workers_and_ray_equal_the_serial_run() -> None:
    # a noisy expert: successes, failures and episode lengths all vary with the seed
    cfg = EvalConfig(("seen", "unseen_objects"), 5, seed=7, num_envs=2, max_steps=25)
    spec = PolicySpec("expert", noise=0.6, seed=3)
    serial = outcomes(evaluate(spec, cfg))
    assert 0 < sum(r["success"] for r in serial) < len(serial)
    assert len({r["steps"] for r in serial}) > 1
    seen: list[tuple[str, int]] = []
    local = evaluate(
        spec, cfg, workers=Workers(2, shard=2), on_episode=lambda r: seen.append((r.suite, r.index))
    )
    assert outcomes(local) == serial
    assert sorted(seen) == sorted((j.suite, j.index) for j in plan_episodes(cfg))
    # one local Ray instance for two calls (its workers keep the policy they built)
    with WorkerPool(Workers(2, ray="local", shard=3)) as pool:
        assert outcomes(evaluate(spec, cfg, pool=pool)) == serial
        jobs = plan_episodes(cfg)[3:7]  # a shard of the plan alone gives those episodes
        assert outcomes(evaluate(spec, cfg, jobs=jobs, pool=pool)) == serial[3:7]
    with pytest.raises(ValueError, match="serial"):
        WorkerPool(Workers(1))


def test_cli_eval_with_workers_writes_the_serial_report(tmp_path: Path) -> None:
    common = ["eval", "--policy", "random", "--suite", "seen,emergent", "--episodes", "3"]
    common += ["--max-steps", "8", "--videos", "0", "--no-progress", "--seed", "5"]
    assert main([*common, "--out", str(tmp_path / "serial")]) == 0
    assert main([*common, "--out", str(tmp_path / "two"), "--workers", "2"]) == 0

    def episodes(name: str) -> list[dict[str, Any]]:
        lines = (tmp_path / name / "episodes.jsonl").read_text().splitlines()
        return [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in lines]

    assert len(episodes("serial")) == 6
    assert episodes("two") == episodes("serial")
    meta = json.loads((tmp_path / "two" / "results.json").read_text())["meta"]
    assert meta["workers"] == "2 local worker processes"
