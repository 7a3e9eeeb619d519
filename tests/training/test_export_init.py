"""Exported (shipped) checkpoints, ``rt2:NAME`` weights, and starting a run from a checkpoint."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import rt2.training.checkpoint as checkpoint_module
from rt2.actions import compute_stats
from rt2.training.checkpoint import export_checkpoint, latest_checkpoint
from rt2.training.factory import build_model, load_model
from rt2.training.trainer import Trainer
from rt2.weights import builtin_names, resolve

from .test_trainer import config


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_dataset):
    run = tmp_path_factory.mktemp("run")
    Trainer(config(steps=4), run, tiny_dataset).run(progress=False)
    return run


def test_export_drops_optimizer_state_and_halves_the_weights(tmp_path, trained):
    out = export_checkpoint(trained, tmp_path / "shipped")
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "dataset.json", "export.json", "model.safetensors", "stats.json", "vla.json",
    ]  # fmt: skip
    assert json.loads((out / "export.json").read_text())["step"] == 4
    src = load_file(str(latest_checkpoint(trained) / "model.safetensors"))
    dst = load_file(str(out / "model.safetensors"))
    assert src.keys() == dst.keys()
    assert {v.dtype for v in dst.values() if v.is_floating_point()} == {torch.bfloat16}
    # the exported model is the original with its weights rounded to bf16
    model = load_model(out).state_dict()
    for k, v in src.items():
        assert torch.equal(model[k], v.to(torch.bfloat16).to(model[k].dtype)), k
    with pytest.raises(FileExistsError, match="exists"):
        export_checkpoint(trained, out)
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        export_checkpoint(tmp_path / "nothing", tmp_path / "x")


def test_interrupted_export_leaves_nothing(tmp_path, trained, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_checkpoint(trained, tmp_path / "shipped")
    assert list(tmp_path.iterdir()) == []


def test_a_run_started_from_a_checkpoint_keeps_its_action_vocabulary(trained):
    stats = json.loads((latest_checkpoint(trained) / "stats.json").read_text())["action"]
    other = compute_stats(np.random.default_rng(0).uniform(-0.2, 0.2, size=(100, 2)))
    cfg = config().model
    fresh = build_model(cfg, other)
    assert np.allclose(fresh.action_space.low, other["q01"])
    started = build_model(replace(cfg, init=str(trained)), other)
    assert np.allclose(started.action_space.low, stats["q01"])
    assert np.allclose(started.action_space.high, stats["q99"])
    # with a different bin count the old vocabulary does not apply: fresh bins, and the
    # checkpoint's weights still load (the mapping only changes which ids are actions)
    rebinned = build_model(replace(cfg, init=str(trained), num_bins=cfg.num_bins + 1), other)
    assert np.allclose(rebinned.action_space.low, other["q01"])


def test_shipped_names_resolve_and_unknown_ones_are_named(tmp_path, monkeypatch, trained):
    import rt2.weights

    export_checkpoint(trained, tmp_path / "tiny-net")
    monkeypatch.setattr(rt2.weights, "ROOT", tmp_path)
    assert builtin_names() == ["tiny-net"]
    assert resolve("rt2:tiny-net") == tmp_path / "tiny-net"
    assert str(resolve("runs/x")) == "runs/x"
    assert latest_checkpoint("rt2:tiny-net") == tmp_path / "tiny-net"
    load_model("rt2:tiny-net")
    with pytest.raises(FileNotFoundError, match=r"did you mean rt2:tiny-net"):
        resolve("rt2:tiny-nett")


def test_a_run_continues_from_an_export_at_its_step(tmp_path, trained, tiny_dataset):
    """The optimizer state is gone (only exported weights were kept): the run goes on at the
    exported step with fresh AdamW moments, from the exported weights."""
    shipped = export_checkpoint(trained, tmp_path / "shipped")
    run = tmp_path / "continued"
    result = Trainer(config(steps=6), run, tiny_dataset, resume=shipped).run(progress=False)
    assert result.step == 6
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert min(steps) == 5  # steps 1-4 were the exported run's
    with pytest.raises(FileNotFoundError, match="no checkpoint there"):
        Trainer(config(), tmp_path / "x", tiny_dataset, resume=tmp_path / "nothing")


def test_a_run_started_from_an_init_continues_where_that_init_is_gone(
    tmp_path, trained, tiny_dataset
):
    """An export of a run that started from ``model.init=DIR`` resumes on a machine without
    DIR: the resumed run is built from the export itself."""
    import shutil

    start = tmp_path / "start"
    shutil.copytree(trained, start)
    base = config(steps=8)
    from_start = replace(base, model=replace(base.model, init=str(start)))
    Trainer(replace(from_start, optim=replace(base.optim, steps=8, stop_at=6)), tmp_path / "run",
            tiny_dataset).run(progress=False)  # fmt: skip
    shipped = export_checkpoint(tmp_path / "run", tmp_path / "shipped")
    shutil.rmtree(start)  # a fresh machine: the init directory is not there
    result = Trainer(from_start, tmp_path / "on", tiny_dataset, resume=shipped).run(progress=False)
    assert result.step == 8
