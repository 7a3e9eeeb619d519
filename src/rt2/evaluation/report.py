"""Evaluation reports: success and referent accuracy with Wilson 95% intervals (one
:class:`~rt2.evaluation.rates.Rate` type for both), beside the concept-blind expert's success,
as JSON, JSONL and markdown."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from rt2.evaluation.markdown import markdown_table
from rt2.evaluation.rates import Rate, cell, jsonable
from rt2.evaluation.runner import EpisodeRecord

REPORT_JSON = "results.json"
REPORT_MD = "report.md"
EPISODES_JSONL = "episodes.jsonl"
PLOT_PNG = "success_rates.png"


REFERENTS = ("mover", "target", "both")


@dataclass(frozen=True)
class Group:
    """A group of episodes: its success, referent accuracy (where the episodes have
    referents), the concept-blind expert's success on the same episodes (where it ran) and, for
    a suite, the same per split group and per task family."""

    success: Rate
    referents: dict[str, Rate] | None = None
    blind_expert: Rate | None = None
    split_groups: dict[str, Group] | None = None
    task_families: dict[str, Group] | None = None

    @classmethod
    def of(
        cls, records: Sequence[EpisodeRecord], blind: Sequence[EpisodeRecord] | None = None
    ) -> Group:
        return cls(Rate.of(records), referent_rates(records), Rate.of(blind) if blind else None)

    def to_dict(self) -> dict[str, Any]:
        """The success rate's keys, then ``referents``, ``blind_expert``, ``split_groups`` and
        ``task_families`` where present (the results.json form)."""
        out = self.success.to_dict()
        optional = {
            "referents": self.referents,
            "blind_expert": self.blind_expert,
            "split_groups": self.split_groups,
            "task_families": self.task_families,
        }
        out.update({k: jsonable(v) for k, v in optional.items() if v is not None})
        return out


@dataclass(frozen=True)
class Summary:
    """Success overall, per suite (with its split groups and task families) and per task
    family over all suites."""

    overall: Group
    suites: dict[str, Group]
    task_families: dict[str, Group]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "suites": jsonable(self.suites),
            "task_families": jsonable(self.task_families),
        }


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


def _group(
    records: Sequence[EpisodeRecord],
    blind: Sequence[EpisodeRecord] | None,
    key: Callable[[EpisodeRecord], str],
) -> dict[str, Group]:
    keys = sorted({key(r) for r in records})
    return {
        k: Group.of(
            [r for r in records if key(r) == k],
            None if blind is None else [r for r in blind if key(r) == k],
        )
        for k in keys
    }


def summarize(
    records: Sequence[EpisodeRecord], blind: Sequence[EpisodeRecord] | None = None
) -> Summary:
    """Success rates overall, per suite, per suite/split_group and per suite/task_family; with
    referent accuracy where the episodes have referents, and the concept-blind expert's success
    on the same episodes (``blind``: its records, same suites and seeds) beside each."""
    if not records:
        raise ValueError("summarize() needs at least one episode record")
    suites: dict[str, Group] = {}
    for suite in dict.fromkeys(r.suite for r in records):
        rs = [r for r in records if r.suite == suite]
        bs = None if blind is None else [r for r in blind if r.suite == suite]
        suites[suite] = replace(
            Group.of(rs, bs),
            split_groups=_group(rs, bs, lambda r: r.split_group or "-"),
            task_families=_group(rs, bs, lambda r: r.task_family or "-"),
        )
    families = _group(records, blind, lambda r: r.task_family or "-")
    return Summary(Group.of(records, blind), suites, families)


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


def _pct(rate: Rate | None) -> str:
    return cell(rate, 1, percent=True)


def _with_chance(rate: Rate | None) -> str:
    return "-" if rate is None else f"{_pct(rate)} ({100 * (rate.chance or 0.0):.0f})"


def _table(title: str, groups: dict[str, Group], label: str) -> list[str]:
    blind = any(g.blind_expert is not None for g in groups.values())
    refs = any(g.referents is not None for g in groups.values())
    header = [label, "episodes", "success (95% CI)"]
    header += ["blind expert success"] if blind else []
    header += ["mover (chance)", "target (chance)", "both (chance)"] if refs else []
    header.append("mean steps")
    rows = []
    for k, g in groups.items():
        cells = [k, str(g.success.n), _pct(g.success)]
        cells += [_pct(g.blind_expert)] if blind else []
        cells += [_with_chance((g.referents or {}).get(x)) for x in REFERENTS] if refs else []
        rows.append([*cells, f"{g.success.mean_steps or 0.0:.1f}"])
    return [f"### {title}", "", *markdown_table(header, rows, right={1, len(header) - 1})]


def _understanding_note(summary: Summary) -> list[str]:
    lines = []
    if summary.overall.blind_expert is not None:
        lines.append(
            "*blind expert*: the scripted expert pushing a uniformly drawn candidate object to a "
            "uniformly drawn candidate target of the instruction's role (`--policy "
            "blind-expert`), on the same episodes: the success perfect motor skill earns with no "
            "understanding."
        )
    if summary.overall.referents is not None:
        lines += [""] if lines else []
        lines.append(
            "*mover / target / both*: referent accuracy, whether the object the policy moved "
            "(the one displaced most toward a candidate target) is the one the instruction "
            "names, whether it ended at the named target (closest candidate), and both; chance "
            "(%) is what a uniform pick among the episode's candidates gets, averaged "
            "(`rt2.envs.tabletop.referents`)."
        )
    return [*lines, ""] if lines else []


def render_markdown(summary: Summary, meta: dict[str, Any], videos: Sequence[str] = ()) -> str:
    """The human-readable report."""
    lines = [
        f"# Evaluation: policy `{meta.get('policy', '?')}`",
        "",
        f"- command: `{meta['command']}`",
        f"- seed: {meta['seed']} (episode i of a suite uses seed + i)",
        f"- overall: {_pct(summary.overall.success)} over {summary.overall.success.n} episodes",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items() if v)}",
        f"- git commit: {meta.get('git_commit') or 'unknown'}",
        "",
        "Success rates with Wilson 95% confidence intervals.",
        "",
        *_understanding_note(summary),
    ]
    lines += _table("Per suite", summary.suites, "suite")
    for suite, g in summary.suites.items():
        lines += _table(f"{suite}: per split group", g.split_groups or {}, "split group")
        lines += _table(f"{suite}: per task family", g.task_families or {}, "task family")
    lines += _table("Per task family (all suites)", summary.task_families, "task family")
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
) -> Summary:
    """Write results.json, episodes.jsonl, report.md and the bar chart; return the summary
    (``blind``: the concept-blind expert's records on the same episodes, shown beside)."""
    from rt2.data.format import atomic_write, atomic_write_json

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(records, blind)
    atomic_write_json(out_dir / REPORT_JSON, {"meta": meta, "summary": summary.to_dict()})
    lines = "".join(json.dumps(r.to_dict()) + "\n" for r in records)
    atomic_write(out_dir / EPISODES_JSONL, lambda p: p.write_text(lines, encoding="utf-8"))
    if plot:
        from rt2.evaluation.plots import plot_success_rates

        plot_success_rates(summary, out_dir / PLOT_PNG, title=f"policy: {meta.get('policy', '?')}")
    videos = [r.video for r in records if r.video]
    md = render_markdown(summary, meta, videos)
    atomic_write(out_dir / REPORT_MD, lambda p: p.write_text(md, encoding="utf-8"))
    return summary
