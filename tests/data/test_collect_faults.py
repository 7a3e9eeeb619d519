"""Fault test: ``rt2 collect`` (the real tabletop simulator) killed with SIGKILL mid-run, then
the same command again: the dataset holds the same episodes as an uninterrupted collect.

The kill is aimed at a flush (the next data file written, its episodes file and commit mostly
not yet; seen leaving an uncommitted data file and half-written ``.tmp`` files), after two
committed flushes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rt2.cli import main
from rt2.data import EpisodeDataset
from rt2.data import format as fmt

EPISODES = 60
ARGS = ["--episodes", str(EPISODES), "--image-size", "32", "--max-steps", "20"]
ARGS += ["--episodes-per-file", "3", "--noise", "0.2", "--seed", "7", "--no-progress"]


def _committed(root: Path) -> int:
    try:
        return int(json.loads((root / fmt.INFO_PATH).read_text())["total_episodes"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def test_sigkill_during_collect_then_rerun_gives_the_uninterrupted_episodes(
    tmp_path: Path,
) -> None:
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "rt2.cli", "collect", "--out", str(killed), *ARGS]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _committed(killed) < 6 and proc.poll() is None:
            time.sleep(0.005)
        # aim at the middle of the next flush: its data file written, its commit not yet
        following = killed / fmt.DATA_PATH.format(chunk_index=0, file_index=_committed(killed) // 3)
        while time.monotonic() < deadline and not following.exists() and proc.poll() is None:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    before = EpisodeDataset(killed).num_episodes
    print(
        "DIAG", before, sorted(str(p.relative_to(killed)) for p in killed.rglob("*") if p.is_file())
    )
    assert 6 <= before < EPISODES, before  # killed mid-run, some episodes committed
    assert main(["collect", "--out", str(killed), *ARGS]) == 0  # the same command again
    assert main(["collect", "--out", str(tmp_path / "once"), *ARGS]) == 0
    a, b = EpisodeDataset(tmp_path / "once"), EpisodeDataset(killed)
    assert a.num_episodes == b.num_episodes == EPISODES
    assert a.num_frames == b.num_frames
    for i in range(EPISODES):
        x, y = a.episode(i), b.episode(i)
        assert x.instruction == y.instruction and x.extra == y.extra, i
        for field in ("images", "states", "actions", "timestamps"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field), err_msg=field)
    assert not [p for p in killed.rglob("*") if p.name.endswith(".tmp")]
    stats_a = json.loads((tmp_path / "once" / "meta" / "stats.json").read_text())
    stats_b = json.loads((killed / "meta" / "stats.json").read_text())
    assert stats_a.keys() == stats_b.keys()
    for key in stats_a:
        for name, value in stats_a[key].items():
            np.testing.assert_allclose(value, stats_b[key][name], rtol=1e-6, err_msg=key + name)
