import json
import re

import numpy as np
import pytest

from rt2.cli import main
from rt2.demo import QUICK, DemoConfig, run_demo


def test_help_lists_every_verb(capsys):
    from rt2.cli import COMMANDS

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^ {4}([a-z][a-z-]*)\s", out, re.MULTILINE)
    assert listed == list(COMMANDS)  # every verb, in order
    assert set(COMMANDS) >= {"collect", "train", "eval", "bench", "export", "demo", "reproduce"}
    for verb in COMMANDS:  # and each parses its own --help
        with pytest.raises(SystemExit) as exit_:
            main([verb, "--help"])
        assert exit_.value.code == 0
        assert f"usage: rt2 {verb}" in capsys.readouterr().out


def test_train_lists_presets(capsys):
    assert main(["train", "--list"]) == 0
    assert "tiny-demo" in capsys.readouterr().out


def test_train_then_eval_through_the_cli(tmp_path):
    data, run = tmp_path / "data", tmp_path / "run"
    assert (
        main(
            [
                "collect",
                "--suite",
                "seen",
                "--episodes",
                "4",
                "--out",
                str(data),
                "--image-size",
                "64",
                "--no-progress",
            ]
        )
        == 0
    )
    overrides = [
        "model.backbone_options=image_size:64,pool:1,vision_dim:32,vision_layers:1,lm_dim:32,lm_layers:1,lm_heads:2,vision_heads:2",
        "optim.batch_size=4",
        "optim.warmup_steps=1",
        "data.eval_episodes=1",
        "data.eval_samples=4",
        "data.weights=robot:1",
        "save_every=2",
    ]  # fmt: skip
    args = [
        "train",
        "--preset",
        "tiny-scratch",
        "--data",
        str(data),
        "--out",
        str(run),
        "--steps",
        "2",
        "--no-progress",
    ]
    assert main([*args, *overrides]) == 0
    assert (run / "checkpoints" / "step-000002" / "model.safetensors").is_file()
    out = tmp_path / "eval"
    assert main(["eval", "--policy", str(run), "--suite", "seen", "--episodes", "2", "--max-steps", "3",
                 "--image-size", "64", "--videos", "0", "--out", str(out), "--no-progress"]) == 0  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert results["summary"]["suites"]["seen"]["n"] == 2


def test_bad_override_is_reported(tmp_path):
    with pytest.raises(KeyError, match="did you mean 'lr'"):
        main(["train", "--preset", "tiny-demo", "--out", str(tmp_path), "optim.lrr=1"])


@pytest.mark.slow
def test_quick_demo_evaluates_the_shipped_policies_and_writes_a_report(tmp_path):
    report = run_demo(DemoConfig(out=tmp_path, **QUICK))
    evaluated = report["policies_evaluated"]
    assert [p["spec"] for p in evaluated.values()] == [
        "rt2:rt2-mini-v2-wip",
        "rt2:rt1-wip",
        "random",
    ]
    assert "step 2,500" in evaluated["RT-2 mini (VLA)"]["about"]  # the stand-in says what it is
    assert report["episodes_per_suite"] == QUICK["eval_episodes"]
    for label, rates in report["policies"].items():
        assert set(rates) == {"seen"}, label
        assert rates["seen"].success.n == QUICK["eval_episodes"]
        assert report["seconds_per_env_step"][label] > 0
    for name in ("report.md", "report.json", "success_rates.png"):
        assert (tmp_path / name).is_file()
    assert list((tmp_path / "eval" / "rt2-rt2-mini-v2-wip").glob("*.gif"))  # the VLA acting
    md = (tmp_path / "report.md").read_text()
    assert "| seen |" in md and "Wall time" in md and "estimated at" in md
    assert np.isfinite(report["timings"]["total_s"])


@pytest.mark.slow
def test_quick_demo_fine_tunes_the_tiny_vla_and_evaluates_it(tmp_path):
    config = DemoConfig(out=tmp_path, policies=(("random", "random"),), fine_tune=True, **QUICK)
    report = run_demo(config)
    assert report["train"]["steps"] == QUICK["steps"]
    assert set(report["policies"]) == {"random", "tiny VLA (co-fine-tuned here)"}
    assert report["policies_evaluated"]["tiny VLA (co-fine-tuned here)"]["spec"] == str(
        tmp_path / "train"
    )
    assert {"collect_s", "train_s", "eval_s"} <= set(report["timings"])
