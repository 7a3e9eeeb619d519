"""Expert collection: counts, determinism across resumes, interruption and crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_env import FakeExpert, FakeTabletop

from rt2.data import EpisodeDataset
from rt2.data import format as fmt
from rt2.data.collect import CollectConfig, collect


def _collect(out: Path, episodes: int, **kw: Any) -> Any:
    env_factory = kw.pop("env_factory", lambda: FakeTabletop(max_steps=12))
    cfg = CollectConfig(out=out, episodes=episodes, episodes_per_file=kw.pop("per_file", 3), **kw)
    noise = cfg.noise
    return collect(
        cfg,
        env_factory=env_factory,
        expert_factory=lambda seed: FakeExpert(noise=noise, seed=seed),
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"detour": 1.2}, r"detour must be in \[0, 1\], got 1.2"),
        ({"detour": 0.5, "env_id": "rt2/Kitchen-v0"}, "only the tabletop expert detours"),
    ],
)
def test_detour_is_validated(tmp_path: Path, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CollectConfig(out=tmp_path, episodes=1, **kwargs)


def test_detour_reaches_the_tabletop_expert(tmp_path: Path) -> None:
    expert = CollectConfig(out=tmp_path, episodes=1, noise=0.1, detour=0.25).make_expert(3)
    assert (expert.noise, expert.detour) == (0.1, 0.25)


def _all_actions(root: Path) -> list[np.ndarray]:
    ds = EpisodeDataset(root)
    return [ds.episode(i).actions for i in range(ds.num_episodes)]


def test_collect_writes_requested_episodes(tmp_path: Path) -> None:
    stats = _collect(tmp_path, 7)
    assert stats.written == 7 and stats.attempts == 7 and not stats.interrupted
    ds = EpisodeDataset(tmp_path)
    assert ds.num_episodes == 7
    assert ds.num_frames == stats.steps
    assert {e.extra["suite"] for e in ds.episodes} == {"seen"}
    assert [e.extra["seed"] for e in ds.episodes] == list(range(7))


def test_only_successful_keeps_successes(tmp_path: Path) -> None:
    stats = _collect(tmp_path, 5, noise=1.0, only_successful=True)
    ds = EpisodeDataset(tmp_path)
    assert ds.num_episodes == 5
    assert all(e.extra["success"] for e in ds.episodes)
    assert stats.attempts >= 5


def test_resume_equals_one_uninterrupted_run(tmp_path: Path) -> None:
    _collect(tmp_path / "once", 8)
    _collect(tmp_path / "twice", 4)
    stats = _collect(tmp_path / "twice", 8)
    assert stats.new_episodes == 4
    a, b = _all_actions(tmp_path / "once"), _all_actions(tmp_path / "twice")
    assert len(a) == len(b) == 8
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # stats cover all 8 episodes, not only the resumed part
    stats_json = json.loads((tmp_path / "twice/meta/stats.json").read_text())
    assert stats_json["action"]["count"] == [sum(len(x) for x in a)]


class _InterruptingEnv(FakeTabletop):
    """Raises KeyboardInterrupt (as Ctrl-C would) at a given global step."""

    def __init__(self, at_step: int) -> None:
        super().__init__(max_steps=12)
        self.at_step, self.global_steps = at_step, 0

    def step(self, action: np.ndarray) -> Any:
        self.global_steps += 1
        if self.global_steps == self.at_step:
            raise KeyboardInterrupt
        return super().step(action)


def test_interrupt_keeps_only_complete_episodes_and_resumes(tmp_path: Path) -> None:
    stats = _collect(tmp_path, 20, per_file=50, env_factory=lambda: _InterruptingEnv(at_step=40))
    assert stats.interrupted
    ds = EpisodeDataset(tmp_path)
    assert 0 < ds.num_episodes < 20
    assert ds.num_frames == sum(e.length for e in ds.episodes) < 40  # the cut episode is gone
    resumed = _collect(tmp_path, 20)
    assert resumed.written == 20
    reference = _collect(tmp_path / "ref", 20)
    assert reference.written == 20
    for x, y in zip(_all_actions(tmp_path), _all_actions(tmp_path / "ref"), strict=True):
        np.testing.assert_array_equal(x, y)


def test_crash_before_commit_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _collect(tmp_path, 3)
    real = fmt.atomic_write_json

    def crash_on_info(path: Path, data: Any) -> None:
        if path.name == "info.json":
            raise OSError("simulated crash before the commit")
        real(path, data)

    monkeypatch.setattr(fmt, "atomic_write_json", crash_on_info)
    with pytest.raises(OSError, match="simulated crash"):
        _collect(tmp_path, 6)
    monkeypatch.setattr(fmt, "atomic_write_json", real)
    # data + episode files of the uncommitted flush exist, info.json still says 3
    assert len(list((tmp_path / "data").glob("*/*.parquet"))) == 2
    seen = EpisodeDataset(tmp_path)  # the reader sees only what info.json committed
    assert seen.num_episodes == 3 and seen.num_frames == sum(e.length for e in seen.episodes)
    stats = _collect(tmp_path, 6)  # reopening cleans up and resumes
    assert stats.new_episodes == 3
    ds = EpisodeDataset(tmp_path)
    assert ds.num_episodes == 6 and [e.index for e in ds.episodes] == list(range(6))
    assert not list(tmp_path.rglob("*.tmp"))


_CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
from fake_env import FakeExpert, FakeTabletop
from rt2.data.collect import CollectConfig, collect

class Slow(FakeTabletop):
    def step(self, a):
        time.sleep(0.002)
        return super().step(a)

cfg = CollectConfig(out={out!r}, episodes=100000, episodes_per_file=2)
print("started", flush=True)
collect(cfg, env_factory=lambda: Slow(max_steps=12), expert_factory=lambda s: FakeExpert(seed=s))
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_process_leaves_a_readable_dataset(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "ds"
    code = _CHILD.format(tests=str(Path(__file__).parent), out=str(out))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, env={**os.environ}
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"started"
        deadline = time.time() + 30
        while time.time() < deadline and not (out / fmt.INFO_PATH).exists():
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:  # never leave the child running
            proc.kill()
            proc.wait()
    ds = EpisodeDataset(out)
    assert ds.num_episodes >= 2
    if sig != signal.SIGKILL:  # graceful: every finished episode was flushed
        assert proc.returncode in (0, -sig, 128 + sig)
    n = ds.num_episodes
    stats = _collect(out, n + 3)
    assert stats.new_episodes == 3 and EpisodeDataset(out).num_episodes == n + 3
