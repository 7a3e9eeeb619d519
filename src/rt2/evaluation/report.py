"""Evaluation reports: success and referent accuracy with Wilson 95% intervals (one
:class:`Rate` type for both), beside the concept-blind expert's success, as JSON, JSONL and
markdown."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rt2.evaluation.runner import EpisodeRecord
from rt2.evaluation.wilson import wilson_interval

REPORT_JSON = "results.json"
REPORT_MD = "report.md"
EPISODES_JSONL = "episodes.jsonl"
PLOT_PNG = "success_rates.png"


@dataclass(frozen=True)
class Rate:
    """Successes out of n with a Wilson 95% interval: the one rate type of the reports
    (success, referent accuracy, multiple-choice accuracy). ``mean_steps``: the episodes' mean
    length, where the rate counts episodes; ``chance``: what a uniform pick among the
    candidates gets, averaged over the n trials, where there is one."""

    n: int
    successes: int
    mean_steps: float | None = None
    chance: float | None = None

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.n)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.ci95
        out: dict[str, Any] = {
            "n": self.n,
            "successes": self.successes,
            "success_rate": self.rate,
            "ci95_low": lo,
            "ci95_high": hi,
        }
        if self.mean_steps is not None:
            out["mean_steps"] = self.mean_steps
        if self.chance is not None:
            out["chance"] = self.chance
        return out


REFERENTS = ("mover", "target", "both")


def referent_rates(records: Sequence[EpisodeRecord]) -> dict[str, Rate] | None:
    """Mover, target and both referent accuracy over the ``records`` that have referents, each
    with its chance level (the episodes' chances averaged); None if none has them."""
    rs = [r for r in records if r.mover_correct is not None]
    if not rs:
        return None
    hits = {
        "mover": [bool(r.mover_correct) for r in rs],
        "target": [bool(r.target_correct) for r in rs],
        "both": [bool(r.mover_correct and r.target_correct) for r in rs],
    }
    chance = {
        "mover": [r.mover_chance or 0.0 for r in rs],
        "target": [r.target_chance or 0.0 for r in rs],
        "both": [r.both_chance or 0.0 for r in rs],
    }
    return {k: Rate(len(rs), sum(hits[k]), chance=sum(chance[k]) / len(rs)) for k in REFERENTS}


def success_rate(records: Sequence[EpisodeRecord]) -> Rate:
    """The success :class:`Rate` of ``records`` (with their mean episode length)."""
    return Rate(
        n=len(records),
        successes=sum(r.success for r in records),
        mean_steps=sum(r.steps for r in records) / max(len(records), 1),
    )


def _cell(
    records: Sequence[EpisodeRecord], blind: Sequence[EpisodeRecord] | None
) -> dict[str, Any]:
    """Success, referent accuracy (``referents``) and the blind expert's success on the same
    episodes (``blind_expert``), where there are any."""
    out = success_rate(records).to_dict()
    refs = referent_rates(records)
    if refs is not None:
        out["referents"] = {k: v.to_dict() for k, v in refs.items()}
    if blind:
        out["blind_expert"] = success_rate(blind).to_dict()
    return out


def _group(
    records: Sequence[EpisodeRecord],
    blind: Sequence[EpisodeRecord] | None,
    key: Callable[[EpisodeRecord], str],
) -> dict[str, dict[str, Any]]:
    keys = sorted({key(r) for r in records})
    return {
        k: _cell(
            [r for r in records if key(r) == k],
            None if blind is None else [r for r in blind if key(r) == k],
        )
        for k in keys
    }


def summarize(
    records: Sequence[EpisodeRecord], blind: Sequence[EpisodeRecord] | None = None
) -> dict[str, Any]:
    """Success rates overall, per suite, per suite/split_group and per suite/task_family; with
    referent accuracy where the episodes have referents, and the concept-blind expert's success
    on the same episodes (``blind``: its records, same suites and seeds) beside each."""
    if not records:
        raise ValueError("summarize() needs at least one episode record")
    suites = dict.fromkeys(r.suite for r in records)
    out: dict[str, Any] = {"overall": _cell(records, blind), "suites": {}}
    for suite in suites:
        rs = [r for r in records if r.suite == suite]
        bs = None if blind is None else [r for r in blind if r.suite == suite]
        out["suites"][suite] = {
            **_cell(rs, bs),
            "split_groups": _group(rs, bs, lambda r: r.split_group or "-"),
            "task_families": _group(rs, bs, lambda r: r.task_family or "-"),
        }
    out["task_families"] = _group(records, blind, lambda r: r.task_family or "-")
    return out


def run_metadata(
    argv: Sequence[str] | None, seed: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Command line, seed, package versions and git commit: what is needed to rerun a result."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("rt2", "numpy", "gymnasium", "torch", "pymunk", "opencv-python-headless"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
                cwd=Path(__file__).parent,  # the code that ran, wherever it runs from
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "command": " ".join(["rt2", *argv]) if argv is not None else " ".join(sys.argv),
        "seed": seed,
        "versions": versions,
        "platform": platform.platform(),
        "git_commit": commit,
        **(extra or {}),
    }


def _pct(d: dict[str, Any]) -> str:
    return f"{100 * d['success_rate']:.1f}% [{100 * d['ci95_low']:.1f}, {100 * d['ci95_high']:.1f}]"


def _with_chance(d: dict[str, Any] | None) -> str:
    if d is None:
        return "-"
    return f"{_pct(d)} ({100 * d['chance']:.0f})"


def _table(title: str, rows: dict[str, dict[str, Any]], label: str) -> list[str]:
    blind = any("blind_expert" in v for v in rows.values())
    refs = any("referents" in v for v in rows.values())
    head = f"| {label} | episodes | success (95% CI) |"
    rule = "|---|---:|---|"
    if blind:
        head, rule = head + " blind expert success |", rule + "---|"
    if refs:
        head += " mover (chance) | target (chance) | both (chance) |"
        rule += "---|---|---|"
    lines = [f"### {title}", "", head + " mean steps |", rule + "---:|"]
    for k, v in rows.items():
        cells = [k, str(v["n"]), _pct(v)]
        if blind:
            cells.append(_pct(v["blind_expert"]) if "blind_expert" in v else "-")
        if refs:
            cells += [_with_chance((v.get("referents") or {}).get(x)) for x in REFERENTS]
        lines.append("| " + " | ".join([*cells, f"{v['mean_steps']:.1f}"]) + " |")
    return [*lines, ""]


def _understanding_note(summary: dict[str, Any]) -> list[str]:
    lines = []
    if "blind_expert" in summary["overall"]:
        lines.append(
            "*blind expert*: the scripted expert pushing a uniformly drawn candidate object to a "
            "uniformly drawn candidate target of the instruction's role (`--policy "
            "blind-expert`), on the same episodes: the success perfect motor skill earns with no "
            "understanding."
        )
    if "referents" in summary["overall"]:
        lines += [""] if lines else []
        lines.append(
            "*mover / target / both*: referent accuracy, whether the object the policy moved "
            "(the one displaced most toward a candidate target) is the one the instruction "
            "names, whether it ended at the named target (closest candidate), and both; chance "
            "(%) is what a uniform pick among the episode's candidates gets, averaged "
            "(`rt2.envs.referents`)."
        )
    return [*lines, ""] if lines else []


def render_markdown(
    summary: dict[str, Any], meta: dict[str, Any], videos: Sequence[str] = ()
) -> str:
    """The human-readable report."""
    lines = [
        f"# Evaluation: policy `{meta.get('policy', '?')}`",
        "",
        f"- command: `{meta['command']}`",
        f"- seed: {meta['seed']} (episode i of a suite uses seed + i)",
        f"- overall: {_pct(summary['overall'])} over {summary['overall']['n']} episodes",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items() if v)}",
        f"- git commit: {meta.get('git_commit') or 'unknown'}",
        "",
        "Success rates with Wilson 95% confidence intervals.",
        "",
        *_understanding_note(summary),
    ]
    lines += _table("Per suite", summary["suites"], "suite")
    for suite, s in summary["suites"].items():
        lines += _table(f"{suite}: per split group", s["split_groups"], "split group")
        lines += _table(f"{suite}: per task family", s["task_families"], "task family")
    lines += _table("Per task family (all suites)", summary["task_families"], "task family")
    lines += [f"![success rates]({PLOT_PNG})", ""]
    if videos:
        lines += ["### Videos", ""] + [f"- [{v}]({v})" for v in videos] + [""]
    return "\n".join(lines)


def write_report(
    out_dir: Path,
    records: Sequence[EpisodeRecord],
    meta: dict[str, Any],
    plot: bool = True,
    blind: Sequence[EpisodeRecord] | None = None,
) -> dict[str, Any]:
    """Write results.json, episodes.jsonl, report.md and the bar chart; return the summary
    (``blind``: the concept-blind expert's records on the same episodes, shown beside)."""
    from rt2.data.format import atomic_write, atomic_write_json

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(records, blind)
    atomic_write_json(out_dir / REPORT_JSON, {"meta": meta, "summary": summary})
    lines = "".join(json.dumps(r.to_dict()) + "\n" for r in records)
    atomic_write(out_dir / EPISODES_JSONL, lambda p: p.write_text(lines, encoding="utf-8"))
    if plot:
        from rt2.evaluation.plots import plot_success_rates

        plot_success_rates(summary, out_dir / PLOT_PNG, title=f"policy: {meta.get('policy', '?')}")
    videos = [r.video for r in records if r.video]
    md = render_markdown(summary, meta, videos)
    atomic_write(out_dir / REPORT_MD, lambda p: p.write_text(md, encoding="utf-8"))
    return summary
