"""Fault tests: a training process killed with SIGKILL while it writes a checkpoint, then
resumed; stale temporaries and file modes of checkpoints; what a resumed run reports."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from rt2.cli import main
from rt2.training.checkpoint import (
    latest_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)
from rt2.training.factory import load_model
from rt2.training.trainer import Trainer

from .test_trainer import config

# The child trains; when the step-6 save has written its weights into the temporary folder it
# prints the folder and waits there, mid-save, for the parent's SIGKILL.
_CHILD = """
import sys, time
import torch
import rt2.training.checkpoint as ckpt
from rt2.training.config import TrainConfig
from rt2.training.trainer import Trainer

torch.set_num_threads({threads})
real = ckpt.save_file

def save_file(tensors, path, *args, **kwargs):
    real(tensors, path, *args, **kwargs)
    if "/.step-000006." in path:
        print("SAVING", path, flush=True)
        time.sleep(120)

ckpt.save_file = save_file
cfg = TrainConfig.from_dict({config!r})
Trainer(cfg, {out!r}, {data!r}).run(progress=False)
"""


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_model(run).state_dict()


def test_sigkill_during_a_checkpoint_save_then_resume(tmp_path, tiny_dataset, capsys) -> None:
    cfg = config(steps=8, save_every=2, eval_every=8)
    run = tmp_path / "killed"
    threads = torch.get_num_threads()
    code = _CHILD.format(
        threads=threads, config=cfg.to_dict(), out=str(run), data=str(tiny_dataset)
    )
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline and not line.startswith("SAVING"):
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail(f"training exited with {proc.returncode} before the save")
        assert line.startswith("SAVING"), line
        tmp = Path(line.split(maxsplit=1)[1].strip()).parent
        assert tmp.parent == run / "checkpoints" and tmp.name.startswith(".step-000006.")
        assert (tmp / "model.safetensors").stat().st_size > 0
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ckpts = run / "checkpoints"
    assert tmp.is_dir() and latest_checkpoint(run).name == "step-000004"  # the kill's leftovers
    # a file of another tool, and folders that only look alike, are not ours to remove
    (ckpts / "notes.txt").write_text("mine\n")
    (ckpts / ".step-notes").mkdir()
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(run), "--no-progress"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"resume: removed 1 stale checkpoint temporary of an interrupted save in {ckpts}" in out
    assert tmp.name in out and "MB)" in out
    assert "trained 4 steps (32 samples)" in out, out
    assert "resumed at step 4: 8 steps (64 samples) in all" in out, out
    names = sorted(p.name for p in ckpts.iterdir())
    assert names == [".step-notes", "latest", "notes.txt", "step-000006", "step-000008"], names
    # the same final weights as a run that was never interrupted
    full = Trainer(cfg, tmp_path / "full", tiny_dataset).run(progress=False)
    assert full.summary().startswith("trained 8 steps (64 samples)")
    assert "resumed" not in full.summary()
    a, b = _weights(tmp_path / "full"), _weights(run)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]


def test_pruning_removes_only_stale_temporaries_and_says_so(tmp_path) -> None:
    model = nn.Linear(3, 2)
    ckpts = tmp_path / "checkpoints"
    save_checkpoint(tmp_path, 1, model, {"config.json": {}})
    stale = ckpts / ".step-000002.k3j2h1ab"  # a killed save (mkdtemp's names are like this)
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"\0" * 1_500_000)
    keep = [ckpts / ".step-000002", ckpts / "step-000002.bak", ckpts / ".hidden"]
    for p in keep:
        p.mkdir()
    said: list[str] = []
    save_checkpoint(tmp_path, 3, model, {"config.json": {}}, keep_last=1, report=said.append)
    assert said == [
        f"removed 1 stale checkpoint temporary of an interrupted save in {ckpts}: "
        ".step-000002.k3j2h1ab (1.5 MB)"
    ]
    names = sorted(p.name for p in ckpts.iterdir())
    assert names == [".hidden", ".step-000002", "latest", "step-000002.bak", "step-000003"]
    save_checkpoint(tmp_path, 4, model, {"config.json": {}}, keep_last=1, report=said.append)
    assert len(said) == 1  # nothing more to say
    # a pointer temporary of a save killed between writing and renaming it
    (ckpts / ".latest.tmp").write_text("step-000005\n")
    (ckpts / ".step-000005.0a1b2c3d").mkdir()
    assert remove_stale_temporaries(ckpts) == [(".latest.tmp", 12), (".step-000005.0a1b2c3d", 0)]
    assert remove_stale_temporaries(ckpts) == []
    assert latest_checkpoint(tmp_path).name == "step-000004"


def test_checkpoint_files_get_one_consistent_mode(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        final = save_checkpoint(
            tmp_path, 5, nn.Linear(3, 2), {"config.json": {"a": 1}}, {"step": 5}
        )
        probe = tmp_path / "probe"
        probe.write_text("x")
        plain = stat.S_IMODE(probe.stat().st_mode)
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in final.iterdir()}
    assert set(modes) == {"model.safetensors", "config.json", "trainer_state.pt"}
    assert set(modes.values()) == {plain} == {0o644}, modes
    assert stat.S_IMODE(final.stat().st_mode) == stat.S_IMODE(final.parent.stat().st_mode)
    assert stat.S_IMODE(final.stat().st_mode) == 0o755


def test_export_gets_the_same_modes(tmp_path) -> None:
    from rt2.training.checkpoint import export_checkpoint

    old = os.umask(0o022)
    try:
        save_checkpoint(tmp_path / "run", 1, nn.Linear(3, 2), {"config.json": {}})
        out = export_checkpoint(tmp_path / "run", tmp_path / "export")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o644}
    assert json.loads((out / "export.json").read_text())["step"] == 1
