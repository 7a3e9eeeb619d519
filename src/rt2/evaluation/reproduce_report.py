"""What ``rt2 reproduce`` writes: report.json, report.md (the tables of
:mod:`rt2.evaluation.reproduce_tables` under a header saying what ran) and the bar charts; and
the headline table it prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rich.table import Table

from rt2.evaluation import paper
from rt2.evaluation import reproduce_tables as rt
from rt2.evaluation.rates import cell, jsonable
from rt2.evaluation.runner import PAPER_SUITES, EpisodeRecord

if TYPE_CHECKING:
    from rt2.evaluation.reproduce import ReproduceConfig

REPORT_JSON, REPORT_MD = "report.json", "report.md"


def write_reproduce_report(
    config: ReproduceConfig,
    rows: Sequence[rt.Row],
    records: dict[str, list[EpisodeRecord]],
    knowledge: dict[str, dict[str, Any] | None],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """report.json, report.md and (``config.plots``) the bar charts; returns the report."""
    from rt2.data.format import atomic_write, atomic_write_json
    from rt2.evaluation.reproduce_plots import plot_report

    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    t = rt.tables(rows, records, knowledge)
    lines = rt.markdown(rows, t, config.episodes)
    plots = plot_report(out, rows, t) if config.plots else []
    report = {
        "meta": meta,
        "models": [asdict(r) for r in rows],
        "tables": t,
        "paper": {
            "source": paper.SOURCE,
            "generalization": paper.GENERALIZATION,
            "emergent": paper.EMERGENT,
            "ablation": paper.ABLATION,
            "language_table": {k: list(v) for k, v in paper.LANGUAGE_TABLE.items()},
        },
        "plots": plots,
    }
    atomic_write_json(out / REPORT_JSON, jsonable(report))
    md = _header(config, rows, meta) + lines + [f"![{p}]({p})" for p in plots] + [""]
    atomic_write(out / REPORT_MD, lambda p: p.write_text("\n".join(md), encoding="utf-8"))
    return {**report, "markdown_tables": lines}


def _header(config: ReproduceConfig, rows: Sequence[rt.Row], meta: dict[str, Any]) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v)
    return [
        "# rt2 reproduce: RT-2's tables in miniature" + (" (--quick)" if config.quick else ""),
        "",
        f"- command: `{meta['command']}`",
        f"- episodes: {config.episodes} per suite and model on {', '.join(PAPER_SUITES)}; seeds "
        f"{meta['seeds']}, the same for every model; at most {config.max_steps} steps each",
        f"- models: {', '.join(f'`{r.spec}`' + ('' if r.shipped else ' (not shipped yet)') for r in rows)}",
        f"- paper numbers: {paper.SOURCE}",
        f"- wall time: {meta['wall_seconds']:.0f} s this run ({meta['episodes_run']} episodes run, "
        f"{meta['workers']}); per model: "
        + ", ".join(f"`{k}` {v:.0f} s" for k, v in meta["model_seconds"].items())
        + "; over all runs that filled the cells: "
        + ", ".join(f"`{k}` {v:.0f} s" for k, v in meta.get("model_seconds_all_runs", {}).items()),
        f"- git commit: {meta.get('git_commit') or 'unknown'}; versions: {versions}",
        "",
        "Success %, [95% Wilson interval] everywhere. Our tabletop is a 2-D simulator with "
        "tiny models; the paper's numbers are real-robot results of 5-55B models: compare the "
        "orderings, not the levels.",
        "",
    ]


def summary_table(rows: Sequence[rt.Row], t: dict[str, Any]) -> Table:
    """The headline numbers for the terminal (the full tables are in report.md)."""
    table = Table(title="success %, [95% Wilson interval]")
    cols = ("model", "seen", "unseen avg", "emergent avg", "emergent right object+target")
    for col in (*cols, "knowledge (mc acc)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        if not r.shipped:
            table.add_row(r.spec, rt.NOT_SHIPPED, "", "", "")
            continue
        k = (t["knowledge"].get(r.spec) or {}).get("knowledge")
        gen = t["generalization"][r.spec]
        both = (t["understanding"][r.spec].get("emergent") or {}).get("both")
        table.add_row(
            r.spec,
            cell(gen["seen"]),
            cell(gen["unseen_avg"]),
            cell(t["emergent"][r.spec]["average"]),
            f"{cell(both)} (chance {100 * (both.chance or 0.0):.0f})" if both else "-",
            cell(k) if k else "-",
        )
    return table
