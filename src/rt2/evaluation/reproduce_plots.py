"""The bar charts of ``rt2 reproduce`` (RT-2 paper style: categories on the x axis, a bar per
model with Wilson 95% error bars, the paper's numbers as hatched bars)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rt2.evaluation import paper
from rt2.evaluation import reproduce_tables as rt
from rt2.evaluation.plots import plot_grouped
from rt2.evaluation.runner import UNSEEN_SUITES


def plot_report(out: Path, rows: Sequence[rt.Row], t: dict[str, Any]) -> list[str]:
    """generalization.png, emergent.png, ablation.png, families.png and understanding.png
    under ``out``; returns their names. The paper's RT-1 and RT-2-PaLI-X rows (and every counterpart of a model shown)
    are hatched reference bars where the paper has the number."""
    shipped = [r for r in rows if r.shipped]
    gen = t["generalization"]
    cats = ["seen", "unseen objects", "unseen backgrounds", "unseen environments", "unseen avg"]
    suites = t["suites"]
    series = {
        r.label: [
            suites[r.spec]["seen"],
            *(suites[r.spec][s] for s in UNSEEN_SUITES),
            gen[r.spec]["unseen_avg"],
        ]
        for r in shipped
    }
    refs = {"RT-1", "RT-2-PaLI-X-55B"} | {n for r in shipped for n in [r.paper] if n}
    reference = {
        f"paper: {n}": [
            paper.GENERALIZATION[n].get("seen"),
            None,
            None,
            None,
            paper.GENERALIZATION[n].get("unseen_avg"),
        ]
        for n in sorted(refs)
    }
    written = []
    plot_grouped(
        out / "generalization.png", cats, series, "Generalization (95% Wilson CI)", reference
    )
    written.append("generalization.png")
    keys = ("symbol", "reasoning", "recognition", "average")
    series = {r.label: [t["emergent"][r.spec][k] for k in keys] for r in shipped}
    reference = {
        f"paper: {paper.EMERGENT_NAME[n]}": [
            paper.EMERGENT[paper.EMERGENT_NAME[n]].get(k) for k in keys
        ]
        for n in sorted(refs)
        if n in paper.EMERGENT_NAME
    }
    plot_grouped(
        out / "emergent.png", list(keys), series, "Emergent skills (95% Wilson CI)", reference
    )
    written.append("emergent.png")
    recipes = list(rt.RECIPES)
    abl = t["ablation"]
    ours = {"ours (unseen avg)": [abl[k].get("unseen_avg") for k in recipes]}
    reference = {
        f"paper {size}": [paper.ABLATION[k].get(size) for k in recipes] for size in ("5B", "55B")
    }
    plot_grouped(out / "ablation.png", recipes, ours, "Ablation: training recipe", reference)
    written.append("ablation.png")
    fams = sorted({f for r in shipped for f in t["families"][r.spec] if f != "all"})
    series = {r.label: [t["families"][r.spec].get(f) for f in fams] for r in shipped}
    plot_grouped(out / "families.png", fams, series, "Per task family, all suites (95% Wilson CI)")
    written.append("families.png")
    u = t.get("understanding", {})
    keys = [k for k, _, _ in rt.UNDERSTANDING]
    series = {
        r.label: [((u.get(r.spec) or {}).get(k) or {}).get("both") for k in keys] for r in shipped
    }
    if any(v for vals in series.values() for v in vals):
        chance = [
            next(
                (
                    100 * (c["both"].chance or 0.0)
                    for r in shipped
                    if (c := (u.get(r.spec) or {}).get(k))
                ),
                None,
            )
            for k in keys
        ]
        plot_grouped(
            out / "understanding.png",
            [h for _, h, _ in rt.UNDERSTANDING],
            series,
            "What it understood: right object to the right target (95% Wilson CI)",
            {"chance": chance},
        )
        written.append("understanding.png")
    return written
