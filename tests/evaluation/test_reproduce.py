"""``rt2 reproduce``: the paper's tables from episode records, resumable cells, the quick run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rt2.cli import main
from rt2.evaluation import reproduce as rp
from rt2.evaluation import reproduce_tables as rt
from rt2.evaluation.episode_log import EpisodeLog
from rt2.evaluation.rates import wilson_interval
from rt2.evaluation.runner import PAPER_SUITES, EpisodeRecord


def record(suite: str, index: int, success: bool, **kw: Any) -> EpisodeRecord:
    base = {
        "seed": 10_000 + index,
        "steps": 5,
        "terminated": success,
        "truncated": not success,
        "task_family": "block_to_block",
        "task_id": f"t{index}",
        "split_group": "easy",
        "instruction": "push it",
        "seconds": 0.1,
    }
    return EpisodeRecord(suite=suite, index=index, success=success, **{**base, **kw})


def test_tables_pool_episodes_and_split_reasoning() -> None:
    recs = [
        record("seen", 0, True, split_group="seen"),
        record("seen", 1, False, split_group="seen"),
        record("unseen_objects", 0, True, split_group="easy"),
        record("unseen_objects", 1, False, split_group="hard"),
        record("unseen_backgrounds", 0, True, split_group="hard", task_family="separate"),
        record("unseen_environments", 0, False, split_group="easy"),
        record("emergent", 0, True, split_group="reasoning", concept="math"),
        record("emergent", 1, False, split_group="reasoning", language="fr"),
        record("emergent", 2, True, split_group="reasoning", concept="category", language="en"),
        record("emergent", 3, True, split_group="symbol_understanding", concept="symbol"),
    ]
    rows = [rt.Row("m", "model m", ablation="fine-tuned"), rt.Row("rt2:x", "x", rt.NOT_SHIPPED)]
    t = rt.tables(rows, {"m": recs}, {"m": None})
    gen = t["generalization"]["m"]
    assert (gen["seen"].n, gen["seen"].successes) == (2, 1)
    assert (gen["unseen_avg"].n, gen["unseen_avg"].successes) == (4, 2)
    assert (gen["unseen_objects/hard"].n, gen["unseen_backgrounds/easy"].n) == (1, 0)
    lo, hi = wilson_interval(2, 4)
    assert gen["unseen_avg"].ci95 == (lo, hi)
    em = t["emergent"]["m"]
    assert (em["reasoning"].n, em["reasoning"].successes) == (3, 2)
    assert [em[k].n for k in ("reasoning/math", "reasoning/categories", "reasoning/languages")] == [
        1,
        1,
        1,
    ]
    assert (em["average"].n, em["symbol"].successes, em["recognition"].n) == (4, 1, 0)
    assert t["families"]["m"]["separate"].n == 1 and t["families"]["m"]["all"].n == 10
    assert t["ablation"]["fine-tuned"]["unseen_avg"] == gen["unseen_avg"]
    assert t["ablation"]["co-fine-tuned"]["status"] == "not evaluated (not in --models)"
    assert "x" not in t["generalization"] and "rt2:x" not in t["generalization"]
    md = "\n".join(rt.markdown(rows, t, 2))
    assert "| model m (`m`) | 50 [9, 91] |" in md
    assert "| x (`rt2:x`) | not shipped yet |" in md
    assert "| *paper: RT-2-PaLI-X-55B* | 91 | 70 | 62 | 96 | 48 | 63 | 35 | 62 |" in md
    assert "| fine-tuned | model m (`m`) | 50 [9, 91] | 50 [15, 85] | 42 | 52 |" in md


def test_episode_log_survives_a_torn_line(tmp_path: Path) -> None:
    log = EpisodeLog(tmp_path / "cell" / "seen.jsonl")
    assert log.read() == {}
    log.append(record("seen", 0, True))
    log.append(record("seen", 1, False))
    with log.path.open("a") as f:
        f.write('{"suite": "seen", "ind')  # the process died mid-line
    assert sorted(log.read()) == [0, 1]
    log.repair()
    log.append(record("seen", 2, True))
    log.append(record("seen", 0, False))  # a repeated index: the first record stays
    done = log.read()
    assert sorted(done) == [0, 1, 2] and done[0].success and done[2].success


def test_unknown_shipped_names_fail_and_known_missing_ones_are_marked() -> None:
    with pytest.raises(FileNotFoundError, match="tiny-vla"):
        rp.model_rows(["rt2:tiny-vl"])
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        rp.model_rows(["runs/does-not-exist"])
    rows = {r.spec: r for r, _ in rp.model_rows(["random", "rt2:tiny-vla"])}
    assert rows["random"].shipped and rows["rt2:tiny-vla"].shipped
    assert set(rp.DEFAULT_MODELS) >= {
        "rt2:rt2-mini",
        "rt2:rt2-mini-co",
        "rt2:rt2-mini-ft",
        "rt2:rt2-mini-scratch",
        "rt2:rt1",
    }
    assert not any(m.endswith("-wip") for m in rp.DEFAULT_MODELS)


def test_a_row_not_shipped_is_evaluated_through_its_shipped_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """rt2:rt2-mini and rt2:rt1 evaluate their -wip milestones until they ship; a stand-in
    named as well gives one row, and a row whose stand-in is missing stays "not shipped yet"."""
    rows = rp.model_rows(["rt2:rt2-mini", "rt2:rt1", "rt2:rt1-wip"])
    assert [(r.spec, r.status, r.paper) for r, _ in rows] == [
        ("rt2:rt2-mini-v2-wip", "evaluated", "RT-2-PaLI-X-55B"),
        ("rt2:rt1-wip", "evaluated", "RT-1"),
        ("blind-expert", "evaluated", None),  # every report has the concept-blind row
    ]
    assert "step 2,500" in rows[0][0].label
    future = rp.ModelInfo("rt2:future-vla", "a VLA", stand_in="rt2:future-vla-wip")
    monkeypatch.setattr(rp, "KNOWN", (*rp.KNOWN, future))
    [(row, _), _] = rp.model_rows(["rt2:future-vla"])
    assert (row.spec, row.status) == ("rt2:future-vla", "not shipped yet")


def cells(out: Path, model: str) -> dict[str, list[dict[str, Any]]]:
    """A model's logged episodes per suite, by index, without their wall-clock times."""
    root = out / "cells" / rp.slug(model)
    return {
        s: sorted(
            (
                {k: v for k, v in json.loads(line).items() if k != "seconds"}
                for line in (root / f"{s}.jsonl").read_text().splitlines()
            ),
            key=lambda e: e["index"],
        )
        for s in PAPER_SUITES
    }


@pytest.mark.slow
def test_quick_reproduce_random_and_tiny_vla(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    future = rp.ModelInfo("rt2:future-vla", "a VLA still training", ablation="from scratch")
    monkeypatch.setattr(rp, "KNOWN", (*rp.KNOWN, future))
    out = tmp_path / "repro"
    argv = ["reproduce", "--quick", "--models", "random,rt2:tiny-vla,rt2:future-vla"]
    assert main([*argv, "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    meta, t = report["meta"], report["tables"]
    assert meta["episodes_per_suite"] == 2 and meta["episodes_run"] == 30 and meta["quick"]
    assert meta["models"] == {
        "random": "evaluated",
        "rt2:tiny-vla": "evaluated",
        "rt2:future-vla": "not shipped yet",
        "blind-expert": "evaluated",
    }
    # the same episodes for every model: same seeds, same tasks
    tasks = {
        m: {s: [(e["seed"], e["task_id"]) for e in c] for s, c in cells(out, m).items()}
        for m in ("random", "rt2:tiny-vla")
    }
    assert tasks["random"] == tasks["rt2:tiny-vla"]
    for model in ("random", "rt2:tiny-vla"):
        eps = [e for c in cells(out, model).values() for e in c]
        assert len(eps) == 10
        gen = t["generalization"][model]
        assert gen["seen"]["n"] == 2 and gen["unseen_avg"]["n"] == 6
        assert t["emergent"][model]["average"]["n"] == 2
        assert t["families"][model]["all"]["successes"] == sum(e["success"] for e in eps)
    assert t["knowledge"]["random"] is None
    k = t["knowledge"]["rt2:tiny-vla"]["knowledge"]
    assert k["n"] == 24 and 0 < k["chance"] < 1 and 0 <= k["successes"] <= 24
    assert t["ablation"]["from scratch"]["status"] == "not shipped yet"
    md = (out / "report.md").read_text()
    assert "a VLA still training (`rt2:future-vla`) | not shipped yet" in md
    assert "2 episodes per suite and model" in md and meta["git_commit"] in md
    assert t["understanding"]["blind-expert"]["emergent"]["both"]["n"] == 2
    for name in ("generalization", "emergent", "ablation", "families", "understanding"):
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"

    # resume: a crash mid-cell loses nothing but the torn line; only the missing episode reruns
    first = cells(out, "random")
    seen = out / "cells" / "random" / "seen.jsonl"
    seen.write_text(seen.read_text().splitlines()[0] + '\n{"suite": "se')
    # (and a knowledge set more: the cached knowledge result of another config is redone)
    assert main([*argv, "--out", str(out), "--knowledge-sets", "knowledge,vqa"]) == 0
    again = json.loads((out / "report.json").read_text())
    assert again["meta"]["episodes_run"] == 1
    assert set(again["tables"]["knowledge"]["rt2:tiny-vla"]) == {"knowledge", "vqa"}
    assert again["tables"]["knowledge"]["rt2:tiny-vla"]["knowledge"] == k
    assert cells(out, "random") == first
    assert again["tables"]["generalization"] == t["generalization"]
    assert "rt2:tiny-vla (knowledge)" in meta["model_seconds"]  # scored in both runs
    assert "rt2:tiny-vla (knowledge)" in again["meta"]["model_seconds"]
    # a rerun with nothing left to do plays nothing and reads the knowledge back
    assert main([*argv, "--out", str(out), "--knowledge-sets", "knowledge,vqa"]) == 0
    third = json.loads((out / "report.json").read_text())
    assert third["meta"]["episodes_run"] == 0 and third["tables"] == again["tables"]
    assert "rt2:tiny-vla (knowledge)" not in third["meta"]["model_seconds"]

    # another configuration in the same directory is refused, naming the field
    with pytest.raises(ValueError, match="max_steps"):
        main([*argv, "--out", str(out), "--max-steps", "7"])

    # two local workers give the serial run's episodes
    assert (
        main(
            [
                "reproduce",
                "--quick",
                "--models",
                "random",
                "--workers",
                "2",
                "--out",
                str(tmp_path / "w2"),
                "--no-plots",
            ]
        )
        == 0
    )
    assert cells(tmp_path / "w2", "random") == first
