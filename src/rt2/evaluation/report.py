"""Evaluation reports: success rates with Wilson 95% intervals, as JSON, JSONL and markdown."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
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
    """Successes out of n with a Wilson 95% interval."""

    n: int
    successes: int
    mean_steps: float

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.n)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.ci95
        return {
            "n": self.n,
            "successes": self.successes,
            "success_rate": self.rate,
            "ci95_low": lo,
            "ci95_high": hi,
            "mean_steps": self.mean_steps,
        }


def _rate(records: Sequence[EpisodeRecord]) -> Rate:
    return Rate(
        n=len(records),
        successes=sum(r.success for r in records),
        mean_steps=sum(r.steps for r in records) / max(len(records), 1),
    )


def _group(
    records: Iterable[EpisodeRecord], key: Callable[[EpisodeRecord], str]
) -> dict[str, Rate]:
    groups: dict[str, list[EpisodeRecord]] = {}
    for r in records:
        groups.setdefault(key(r), []).append(r)
    return {k: _rate(v) for k, v in sorted(groups.items())}


def summarize(records: Sequence[EpisodeRecord]) -> dict[str, Any]:
    """Success rates overall, per suite, per suite/split_group and per suite/task_family."""
    if not records:
        raise ValueError("summarize() needs at least one episode record")
    suites = dict.fromkeys(r.suite for r in records)
    out: dict[str, Any] = {"overall": _rate(records).to_dict(), "suites": {}}
    for suite in suites:
        rs = [r for r in records if r.suite == suite]
        out["suites"][suite] = {
            **_rate(rs).to_dict(),
            "split_groups": {
                k: v.to_dict() for k, v in _group(rs, lambda r: r.split_group or "-").items()
            },
            "task_families": {
                k: v.to_dict() for k, v in _group(rs, lambda r: r.task_family or "-").items()
            },
        }
    out["task_families"] = {
        k: v.to_dict() for k, v in _group(records, lambda r: r.task_family or "-").items()
    }
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


def _table(title: str, rows: dict[str, dict[str, Any]], label: str) -> list[str]:
    lines = [
        f"### {title}",
        "",
        f"| {label} | episodes | success (95% CI) | mean steps |",
        "|---|---:|---|---:|",
    ]
    lines += [f"| {k} | {v['n']} | {_pct(v)} | {v['mean_steps']:.1f} |" for k, v in rows.items()]
    return [*lines, ""]


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
    out_dir: Path, records: Sequence[EpisodeRecord], meta: dict[str, Any], plot: bool = True
) -> dict[str, Any]:
    """Write results.json, episodes.jsonl, report.md and the bar chart; return the summary."""
    from rt2.data.format import atomic_write, atomic_write_json

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(records)
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
