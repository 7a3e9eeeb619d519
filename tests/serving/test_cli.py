"""``rt2 eval --policy ws://`` through the server, and ``rt2 serve`` as a process (SIGINT)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rt2.cli import main
from rt2.serving import BackgroundServer, PolicyClient

from .conftest import observation

EVAL_ARGS = ["--episodes", "2", "--num-envs", "2", "--image-size", "32", "--max-steps", "6"]
EVAL_ARGS += ["--videos", "0", "--no-progress", "--suite", "seen"]


def _episodes(out: Path) -> list[dict]:
    rows = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if "time" not in k and "second" not in k} for r in rows]


def test_eval_through_the_server_matches_local(
    vla_server: BackgroundServer, checkpoint: Path, tmp_path: Path
) -> None:
    assert (
        main(["eval", "--policy", vla_server.ws_url, "--out", str(tmp_path / "ws"), *EVAL_ARGS])
        == 0
    )
    assert (
        main(["eval", "--policy", str(checkpoint), "--out", str(tmp_path / "local"), *EVAL_ARGS])
        == 0
    )
    remote, local = _episodes(tmp_path / "ws"), _episodes(tmp_path / "local")
    assert len(remote) == 2 and remote == local


def test_serve_command_stops_cleanly_on_sigint(checkpoint: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "rt2.cli", "serve", "--checkpoint", str(checkpoint), "--port", "0"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "policy server on" not in line:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                pytest.fail(f"rt2 serve exited with {proc.returncode}")
        port = int(re.search(r":(\d+) ", line).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert json.loads(r.read())["status"] == "ok"
        client = PolicyClient(f"ws://127.0.0.1:{port}")  # an open websocket does not block exit
        assert client.infer(observation()).shape == (2,)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        client.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
