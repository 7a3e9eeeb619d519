"""Reports, plots, videos and the `rt2 eval` command."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from fake_env import FakeExpert, FakeTabletop

from rt2.cli import main
from rt2.evaluation import EvalConfig, run_evaluation
from rt2.evaluation.report import run_metadata, summarize, write_report
from rt2.evaluation.runner import EpisodeRecord
from rt2.evaluation.videos import overlay_instruction, write_episode_video
from rt2.policies import RandomPolicy, scripted


def _rec(suite: str, i: int, success: bool, family: str = "f", group: str = "g") -> EpisodeRecord:
    return EpisodeRecord(
        suite, i, i, success, 5, success, not success, family, f"{family}/0", group, "go", 0.1
    )


def test_summarize_counts_and_intervals() -> None:
    recs = [_rec("a", i, i < 3, family="x" if i % 2 else "y") for i in range(10)] + [
        _rec("b", i, True) for i in range(4)
    ]
    s = summarize(recs)
    assert s.overall.success.n == 14 and s.overall.success.successes == 7
    a = s.suites["a"]
    assert a.success.rate == pytest.approx(0.3) and a.success.mean_steps == 5
    assert a.success.low < 0.3 < a.success.high
    assert a.task_families is not None and a.task_families["x"].success.n == 5
    assert a.task_families["y"].success.successes == 2  # episodes 0, 2
    assert s.suites["b"].success.high == 1.0
    assert set(s.task_families) == {"f", "x", "y"}
    assert s.overall.referents is None and s.overall.blind_expert is None
    # on disk: the keys reports have always had
    d = s.to_dict()
    assert d["suites"]["a"]["success_rate"] == pytest.approx(0.3)
    assert (d["suites"]["a"]["ci95_low"], d["suites"]["a"]["ci95_high"]) == a.success.ci95
    assert set(d["suites"]["a"]) == {
        "n", "successes", "success_rate", "ci95_low", "ci95_high", "mean_steps",
        "split_groups", "task_families",
    }  # fmt: skip
    assert set(d["overall"]) == {"n", "successes", "success_rate", "ci95_low", "ci95_high",
                                 "mean_steps"}  # fmt: skip


def test_write_report_files(tmp_path: Path) -> None:
    cfg = EvalConfig(suites=("seen", "emergent"), episodes=5, num_envs=2, videos=1)
    recs = run_evaluation(
        cfg, RandomPolicy(), env_factory=lambda s: FakeTabletop(suite=s), video_dir=tmp_path
    )
    summary = write_report(
        tmp_path, recs, run_metadata(["eval", "--seed", "0"], 0, {"policy": "random"})
    )
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["summary"] == json.loads(json.dumps(summary.to_dict()))
    assert data["meta"]["command"] == "rt2 eval --seed 0" and data["meta"]["versions"]["numpy"]
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 10 and json.loads(lines[0])["suite"] == "seen"
    md = (tmp_path / "report.md").read_text()
    assert "| seen | 5 |" in md and "Wilson 95%" in md
    assert (tmp_path / "success_rates.png").stat().st_size > 1000
    gifs = sorted(p.name for p in tmp_path.glob("*.gif"))
    assert len(gifs) == 2 and all(g in md for g in gifs)


def test_video_overlay(tmp_path: Path) -> None:
    frames = [np.full((32, 32, 3), v, np.uint8) for v in (0, 100, 200)]
    cap = overlay_instruction(frames[0], "push the red star next to the yellow fruit please")
    assert cap.shape[1] == 256 and cap.shape[0] > 256 and cap[:14].max() == 255  # text drawn
    path = write_episode_video(frames, "push it", tmp_path / "v.gif", success=True)
    read = imageio.mimread(path)
    assert len(read) == 3 + 1  # frames + the held, bordered last frame
    write_episode_video(frames, "push it", tmp_path / "v.mp4")
    assert (tmp_path / "v.mp4").stat().st_size > 0
    # a policy's plans caption their frames; longer captions keep one frame size
    plans = ["plan: arm 1 2, block 3 4, goal 5 6 " * 3, ""]
    read = imageio.mimread(
        write_episode_video(frames, "push it", tmp_path / "p.gif", captions=plans)
    )
    assert len({f.shape for f in read}) == 1 and len(read) == 3
    assert not np.array_equal(read[0][:40], read[1][:40])  # the plan is written on frame 0 only
    with pytest.raises(ValueError, match=r"gif or \.mp4"):
        write_episode_video(frames, "x", tmp_path / "v.avi")


@pytest.fixture
def fake_sim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        EvalConfig, "make_env", lambda self, suite: FakeTabletop(suite=suite, max_steps=15)
    )
    monkeypatch.setattr(scripted, "_tabletop_expert", lambda noise, seed: FakeExpert(noise, seed))


def test_cli_eval_smoke(tmp_path: Path, fake_sim: None) -> None:
    out = tmp_path / "rep"
    argv = [
        "eval",
        "--policy",
        "expert",
        "--suite",
        "seen,unseen_objects",
        "--episodes",
        "4",
        "--no-blind-baseline",
    ]  # fmt: skip  (the fake env lists no candidate targets)
    assert main([*argv, "--out", str(out), "--videos", "1", "--no-progress"]) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["summary"]["suites"]["seen"]["success_rate"] == 1.0
    assert "--suite seen,unseen_objects" in data["meta"]["command"] and data["meta"]["seed"] == 0
    assert (
        main(
            [
                "eval",
                "--policy",
                "random",
                "--episodes",
                "4",
                "--out",
                str(out),
                "--no-progress",
                "--no-blind-baseline",
            ]
        )
        == 0
    )
    assert (
        json.loads((out / "results.json").read_text())["summary"]["overall"]["success_rate"] < 0.5
    )


def test_cli_eval_logs_each_episode_and_resumes_after_a_crash(
    tmp_path: Path, fake_sim: None
) -> None:
    out = tmp_path / "rep"
    argv = ["eval", "--policy", "random", "--suite", "seen,unseen_objects", "--episodes", "4",
            "--videos", "0", "--out", str(out), "--no-progress", "--no-blind-baseline"]  # fmt: skip
    assert main(argv) == 0

    def records() -> list[dict]:
        rows = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    full = records()
    log = out / "cells" / "seen.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    assert (
        len(lines) == 4
        and len((out / "cells" / "unseen_objects.jsonl").read_text().splitlines()) == 4
    )
    # a crash: two seen episodes logged, a third torn mid-line; no report, no unseen episodes
    log.write_text("".join(lines[:2]) + lines[2][:25])
    (out / "cells" / "unseen_objects.jsonl").unlink()
    for name in ("episodes.jsonl", "results.json", "report.md"):
        (out / name).unlink()
    assert main([*argv, "--resume"]) == 0
    assert records() == full
    resumed = log.read_text().splitlines(keepends=True)
    assert resumed[:2] == lines[:2] and len(resumed) == 4  # kept, not replayed; torn line cut
    with pytest.raises(ValueError, match=r"seed.*--resume"):
        main([*argv, "--resume", "--seed", "7"])
    # more episodes later: only the new ones are played
    assert main([*argv[:6], "6", *argv[7:], "--resume"]) == 0
    assert len(log.read_text().splitlines()) == 6 and records()[:4] == full[:4]


def test_cli_eval_bad_policy(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        main(["eval", "--policy", str(tmp_path / "ckpt"), "--out", str(tmp_path), "--no-progress"])


def test_demo_report_tables_and_charts_success_per_suite(tmp_path: Path) -> None:
    from rich.console import Console

    from rt2.demo import _write

    recs = [_rec(s, i, i < k) for k, s in ((3, "seen"), (1, "emergent")) for i in range(4)]
    report = {
        "config": {"seed": 0},
        "policies_evaluated": {
            "vla": {"spec": "rt2:tiny-vla", "about": "tiny VLA"},
            "random": {"spec": "random", "about": "random policy"},
        },
        "episodes_per_suite": 4,
        "seconds_per_env_step": {"vla": 0.05, "random": 0.001},
        "videos": str(tmp_path / "eval" / "rt2-tiny-vla"),
        "policies": {
            "vla": summarize(recs).suites,
            "random": summarize(recs[:1] + recs[4:]).suites,
        },
        "timings": {"total_s": 60.0, "calibrate_s": 1.0, "eval_s": 3.0, "eval_estimate_s": 120.0},
    }
    _write(report, tmp_path, Console(file=open(tmp_path / "console.txt", "w")))  # noqa: SIM115
    md = (tmp_path / "report.md").read_text()
    assert "| suite | vla | random |\n|---|---|---|\n| seen | 75 [30, 95] | 100 [21, 100] |" in md
    assert (
        "| emergent | 25 [5, 70] | 25 [5, 70] |\n\nWall time: 1.0 min (calibrate 1s, eval 3s)" in md
    )
    assert "estimated at 2.0 min at most" in md and "vla 50 ms, random 1 ms per env step" in md
    assert "- **vla**: `rt2:tiny-vla`, tiny VLA" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["policies"]["vla"]["seen"]["success_rate"] == 0.75
    assert (tmp_path / "success_rates.png").stat().st_size > 1000
