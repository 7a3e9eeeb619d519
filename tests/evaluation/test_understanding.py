"""Referent accuracy in records, reports and reproduce tables; the blind expert's row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rt2.cli import main
from rt2.evaluation import EvalConfig, run_evaluation
from rt2.evaluation import reproduce_tables as rt
from rt2.evaluation.rates import Rate, wilson_interval
from rt2.evaluation.report import referent_rates, summarize
from rt2.evaluation.runner import EpisodeRecord
from rt2.policies import load_policy


def rec(i: int, success: bool, mover: bool | None, target: bool | None, **kw: Any) -> EpisodeRecord:
    base: dict[str, Any] = {
        "suite": "emergent",
        "index": i,
        "seed": i,
        "success": success,
        "steps": 5,
        "terminated": success,
        "truncated": not success,
        "task_family": "push_onto_mark",
        "task_id": f"t{i}",
        "split_group": "symbol_understanding",
        "instruction": "push it",
        "seconds": 0.1,
        "concept": "symbol",
    }
    if mover is not None:
        base |= {
            "mover_correct": mover,
            "target_correct": target,
            "mover_chance": 0.5,
            "target_chance": 0.25,
            "both_chance": 0.125,
        }
    return EpisodeRecord(**{**base, **kw})


def test_referent_rates_count_and_average_chance() -> None:
    recs = [rec(0, True, True, True), rec(1, False, True, False), rec(2, False, False, True)]
    recs.append(rec(3, False, None, None))  # no referents (an old log): not counted
    r = referent_rates(recs)
    assert r is not None
    assert (r["mover"].n, r["mover"].successes, r["target"].successes, r["both"].successes) == (
        3,
        2,
        2,
        1,
    )
    assert (r["mover"].chance, r["both"].chance) == (0.5, 0.125)
    d = r["both"].to_dict()
    assert (d["ci95_low"], d["ci95_high"]) == wilson_interval(1, 3) and "mean_steps" not in d
    assert referent_rates([rec(0, True, None, None)]) is None
    assert Rate(4, 1, 2.0).to_dict()["mean_steps"] == 2.0  # the success form keeps its steps


def test_summary_shows_referents_and_the_blind_expert_beside_success() -> None:
    recs = [rec(i, i < 2, i < 3, i < 2) for i in range(4)]
    blind = [rec(i, i == 0, i == 1, i == 0) for i in range(4)]
    s = summarize(recs, blind)
    em = s.suites["emergent"]
    assert em.blind_expert is not None and em.referents is not None and em.split_groups
    assert em.blind_expert.successes == 1 and em.referents["mover"].successes == 3
    g = em.split_groups["symbol_understanding"]
    assert g.referents is not None and g.blind_expert is not None
    assert g.referents["both"].chance == 0.125 and g.blind_expert.n == 4
    from rt2.evaluation.report import render_markdown, run_metadata

    md = render_markdown(s, {**run_metadata(["eval"], 0), "policy": "p"})
    assert "| emergent | 4 | 50.0% [15.0, 85.0] | 25.0% [4.6, 69.9] | 75.0%" in md
    assert "(50) |" in md and "(12) |" in md  # chance of mover, both


def test_reproduce_understanding_table() -> None:
    recs = [rec(i, i < 2, i < 3, i < 2) for i in range(4)]
    recs += [rec(4, False, True, False, concept="math", split_group="reasoning")]
    blind = [rec(i, False, i == 0, i == 1) for i in range(5)]
    rows = [rt.Row("m", "model m"), rt.Row("blind-expert", "blind")]
    t = rt.tables(rows, {"m": recs, "blind-expert": blind}, {"m": None, "blind-expert": None})
    u = t["understanding"]["m"]
    assert u["symbol"]["mover"].successes == 3 and u["math"]["mover"].n == 1
    assert u["emergent"]["both"].n == 5 and u["seen"] is None and u["recognition"] is None
    md = "\n".join(rt.markdown(rows, t, 5))
    assert "## What it understood: referent accuracy" in md
    assert "| *chance* | mover | - | - | - | - | 50 | 50 | 50 | - | - | - |" in md
    assert "| model m (`m`) | mover | - | - | - | - | 80 [38, 96] | 75 [30, 95] |" in md
    assert "| blind (`blind-expert`) | mover |" in md
    assert "| *no understanding* | blind (`blind-expert`) |" in md


def test_eval_records_referents_for_suites_and_blind_expert(tmp_path: Path) -> None:
    cfg = EvalConfig(suites=("emergent",), episodes=6, num_envs=3, image_size=32, max_steps=40)
    expert = run_evaluation(cfg, load_policy("expert"))
    blind = run_evaluation(cfg, load_policy("blind-expert"))
    assert all(r.mover_correct and r.target_correct for r in expert)
    assert all(r.mover_chance is not None and 0 < r.both_chance < 1 for r in blind)
    assert [r.task_id for r in blind] == [r.task_id for r in expert]  # the same episodes
    # rt2 eval: the report shows the blind expert and the referents beside success
    out = tmp_path / "ev"
    argv = ["eval", "--policy", "expert", "--suite", "emergent", "--episodes", "4",
            "--max-steps", "40", "--image-size", "32", "--videos", "0", "--no-progress"]  # fmt: skip
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "results.json").read_text())["summary"]["suites"]["emergent"]
    assert summary["referents"]["both"]["successes"] == 4
    assert summary["blind_expert"]["n"] == 4
    assert "blind expert success" in (out / "report.md").read_text()
    line = json.loads((out / "episodes.jsonl").read_text().splitlines()[0])
    assert line["mover_correct"] is True and line["mover_referent"]


def test_blind_expert_has_no_kitchen_form() -> None:
    from rt2.evaluation.distributed import PolicySpec

    with pytest.raises(ValueError, match="blind-expert"):
        PolicySpec("blind-expert", env="kitchen").build()
