"""The tables of ``rt2 reproduce``, from episode records: the paper's layouts, our numbers with
Wilson 95% intervals, the paper's beside them.

Every rate pools the episodes of its cell (an average over categories pools their episodes, so
its interval is a Wilson interval too). ``tables()`` gives every table with its
:class:`~rt2.evaluation.rates.Rate` cells (:func:`~rt2.evaluation.rates.jsonable` their JSON
form); ``markdown()`` the report's text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rt2.evaluation import paper
from rt2.evaluation.markdown import markdown_table
from rt2.evaluation.rates import Rate, cell
from rt2.evaluation.report import REFERENTS, referent_rates
from rt2.evaluation.runner import PAPER_SUITES, UNSEEN_SUITES, EpisodeRecord

BLIND = "blind-expert"
NOT_SHIPPED = "not shipped yet"
Pick = Callable[[EpisodeRecord], bool]


@dataclass(frozen=True)
class Row:
    """One model of the report: what it is, whether it ran, which paper rows it mirrors."""

    spec: str
    label: str
    status: str = "evaluated"  # or NOT_SHIPPED
    paper: str | None = None  # its Table 1 counterpart (e.g. "RT-2-PaLI-X-55B")
    ablation: str | None = None  # its Table 6 recipe: from scratch / fine-tuned / co-fine-tuned

    @property
    def shipped(self) -> bool:
        return self.status != NOT_SHIPPED


def _suite(name: str, group: str | None = None) -> Pick:
    return lambda r: r.suite == name and (group is None or r.split_group == group)


GENERALIZATION: tuple[tuple[str, str, Pick], ...] = (
    ("seen", "seen", _suite("seen")),
    *(
        (f"{s}/{g}", f"{s.removeprefix('unseen_')} {g}", _suite(s, g))
        for s in UNSEEN_SUITES
        for g in ("easy", "hard")
    ),
    ("unseen_avg", "unseen avg", lambda r: r.suite in UNSEEN_SUITES),
)
EMERGENT: tuple[tuple[str, str, Pick], ...] = (
    ("symbol", "symbol understanding", _suite("emergent", "symbol_understanding")),
    ("reasoning", "reasoning", _suite("emergent", "reasoning")),
    ("reasoning/math", "math", lambda r: r.suite == "emergent" and r.concept == "math"),
    (
        "reasoning/categories",
        "categories",
        lambda r: r.suite == "emergent" and r.concept == "category",
    ),
    (
        "reasoning/languages",
        "other languages",
        lambda r: r.suite == "emergent" and r.language not in ("", "en"),
    ),
    ("recognition", "recognition", _suite("emergent", "recognition")),
    ("average", "average", _suite("emergent")),
)
RECIPES = ("from scratch", "fine-tuned", "co-fine-tuned")
#: the columns of "what it understood": every suite, then the emergent concept groups
UNDERSTANDING: tuple[tuple[str, str, Pick], ...] = (
    *((s, s.replace("_", " "), _suite(s)) for s in PAPER_SUITES),
    ("symbol", "symbol", lambda r: r.suite == "emergent" and r.concept == "symbol"),
    ("math", "math", lambda r: r.suite == "emergent" and r.concept == "math"),
    ("category", "category", lambda r: r.suite == "emergent" and r.concept == "category"),
    (
        "language",
        "language",
        lambda r: r.suite == "emergent" and r.language not in ("", "en"),
    ),
    ("recognition", "recognition", lambda r: r.suite == "emergent" and r.concept == "recognition"),
)


def _columns(
    records: Sequence[EpisodeRecord], columns: tuple[tuple[str, str, Pick], ...]
) -> dict[str, Any]:
    return {key: Rate.of([r for r in records if pick(r)]) for key, _, pick in columns}


def tables(
    rows: Sequence[Row],
    records: dict[str, list[EpisodeRecord]],
    knowledge: dict[str, dict[str, Any] | None],
) -> dict[str, Any]:
    """Every table: ``{table: {spec: {column: Rate}}}`` (missing models: their status)."""
    shipped = [r for r in rows if r.shipped]
    families = sorted({rec.task_family for r in shipped for rec in records.get(r.spec, [])})
    out: dict[str, Any] = {
        "suites": {
            r.spec: {
                s: Rate.of([x for x in records[r.spec] if x.suite == s])
                for s in dict.fromkeys(x.suite for x in records[r.spec])
            }
            for r in shipped
        },
        "generalization": {r.spec: _columns(records[r.spec], GENERALIZATION) for r in shipped},
        "emergent": {r.spec: _columns(records[r.spec], EMERGENT) for r in shipped},
        "families": {
            r.spec: {
                **{
                    f: Rate.of([x for x in records[r.spec] if x.task_family == f]) for f in families
                },
                "all": Rate.of(records[r.spec]),
            }
            for r in shipped
        },
        "ablation": {},
        "knowledge": {r.spec: _knowledge(knowledge.get(r.spec)) for r in shipped},
        "understanding": {r.spec: _understanding(records[r.spec]) for r in shipped},
    }
    for recipe in RECIPES:
        row = next((r for r in rows if r.ablation == recipe), None)
        entry: dict[str, Any] = {
            "model": row.spec if row else None,
            "paper": paper.ABLATION[recipe],
        }
        if row is not None and row.shipped:
            entry["seen"] = out["generalization"][row.spec]["seen"]
            entry["unseen_avg"] = out["generalization"][row.spec]["unseen_avg"]
        else:
            entry["status"] = NOT_SHIPPED if row else "not evaluated (not in --models)"
        out["ablation"][recipe] = entry
    return out


def _understanding(records: Sequence[EpisodeRecord]) -> dict[str, Any]:
    """Per column of :data:`UNDERSTANDING`: mover / target / both referent accuracy (each a
    rate with its chance), or None where the episodes have no referents."""
    out: dict[str, Any] = {}
    for key, _, pick in UNDERSTANDING:
        refs = referent_rates([r for r in records if pick(r)])
        out[key] = refs
    return out


def _knowledge(result: dict[str, Any] | None) -> dict[str, Rate] | None:
    """Per question set: multiple-choice accuracy as a rate (successes = right answers)."""
    if result is None:
        return None
    out = {}
    for name, summary in result["sets"].items():
        overall = summary["overall"]
        out[name] = Rate(overall["n"], overall["mc_correct"], chance=overall["chance"])
    return out


# ---- markdown -----------------------------------------------------------------------------
def _num(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


def _grid(
    rows: Sequence[Row],
    data: dict[str, dict[str, Any]],
    columns: tuple[tuple[str, str, Pick], ...],
    paper_rows: dict[str, dict[str, float]],
    headline: str,
    paper_name: Callable[[Row], str | None],
) -> list[str]:
    header = ["model", *(h for _, h, _ in columns), f"paper ({headline})"]
    lines = []
    for r in rows:  # the concept-blind expert is one of the rows (reproduce adds it)
        if not r.shipped:
            lines.append([f"{r.label} (`{r.spec}`)", NOT_SHIPPED, *[""] * len(columns)])
            continue
        name = paper_name(r)
        ref = paper_rows.get(name or "", {}).get(headline.replace(" ", "_"))
        ref_text = f"{ref:g} ({name})" if ref is not None else "-"
        lines.append(
            [f"{r.label} (`{r.spec}`)", *(cell(data[r.spec][k]) for k, _, _ in columns), ref_text]
        )
    for name, values in paper_rows.items():
        lines.append([f"*paper: {name}*", *(_num(values.get(k)) for k, _, _ in columns), ""])
    return markdown_table(header, lines)


def _chance_row(rows: Sequence[Row], u: dict[str, Any], measure: str) -> list[str]:
    """The chance of ``measure`` per column (the same episodes for every model: the first
    model with that column's episodes gives it)."""
    cells = []
    for key, _, _ in UNDERSTANDING:
        found = next((u[r.spec][key] for r in rows if r.shipped and u[r.spec].get(key)), None)
        cells.append(f"{100 * (found[measure].chance or 0.0):.0f}" if found else "-")
    return ["*chance*", measure, *cells]


def understanding_markdown(rows: Sequence[Row], t: dict[str, Any], counts: str) -> list[str]:
    """The "what it understood" table: referent accuracy per model, suite and concept group,
    under the chance rows (the concept-blind expert is one of the model rows)."""
    u = t["understanding"]
    shipped = [r for r in rows if r.shipped]
    header = ["model", "referent", *(h for _, h, _ in UNDERSTANDING)]
    lines = [_chance_row(shipped, u, m) for m in REFERENTS]
    for r in shipped:
        for m in REFERENTS:
            lines.append(
                [
                    f"{r.label} (`{r.spec}`)" if m == REFERENTS[0] else "",
                    m,
                    *(cell((u[r.spec][k] or {}).get(m)) for k, _, _ in UNDERSTANDING),
                ]
            )
    return [
        "## What it understood: referent accuracy",
        "",
        f"% of episodes, [95% Wilson interval], {counts}. *mover*: the object the policy "
        "moved (displaced most toward a candidate target) is the one the instruction names; "
        "*target*: it ended at the named target (the closest of the candidate objects, marks, "
        "regions or spots of the instruction's role); *both*: the two at once. *chance*: what a "
        "uniform pick among the episode's candidates gets, averaged. The concept-blind expert "
        "(the scripted expert pushing a uniformly drawn object to a uniformly drawn target) sits "
        "at chance by construction: a policy understood a column's concept only where its "
        "interval lies above the chance row; its success above the blind expert's is skill "
        "*and* understanding. symbol / math / category / language / recognition are the "
        "emergent suite's concept groups.",
        "",
        *markdown_table(header, lines),
    ]


def markdown(rows: Sequence[Row], t: dict[str, Any], episodes: int) -> list[str]:
    """The report's tables (success %, [95% Wilson interval]; paper rows in italics)."""
    counts = f"{episodes} episodes per suite and model"
    out = [
        "## Generalization (paper Table 1 layout)",
        "",
        f"Success %, [95% Wilson interval], {counts}; easy / hard are the suites' split groups; "
        "unseen avg pools the three unseen suites' episodes.",
        "",
        *_grid(
            rows,
            t["generalization"],
            GENERALIZATION,
            paper.GENERALIZATION,
            "unseen avg",
            lambda r: r.paper,
        ),
        "## Emergent skills",
        "",
        f"The `emergent` suite, {counts}: reasoning = math + categories + other languages. The "
        "paper's third category is human recognition; ours recognises pictures, flags and logos.",
        "",
        *_grid(
            rows,
            t["emergent"],
            EMERGENT,
            paper.EMERGENT,
            "average",
            lambda r: paper.EMERGENT_NAME.get(r.paper or ""),
        ),
        *understanding_markdown(rows, t, counts),
        "## Ablation (paper Table 6 layout): training recipe, unseen average",
        "",
    ]
    lines = []
    for recipe, e in t["ablation"].items():
        label = next((f"{r.label} (`{r.spec}`)" for r in rows if r.spec == e["model"]), "-")
        ours = (
            [e.get("status", ""), ""] if "status" in e else [cell(e["seen"]), cell(e["unseen_avg"])]
        )
        lines.append(
            [recipe, label, *ours, _num(e["paper"].get("5B")), _num(e["paper"].get("55B"))]
        )
    blind = next((r for r in rows if r.spec == BLIND and r.shipped), None)
    if blind is not None:
        gen = t["generalization"][blind.spec]
        lines.append(
            [
                "*no understanding*",
                f"{blind.label} (`{blind.spec}`)",
                cell(gen["seen"]),
                cell(gen["unseen_avg"]),
                "",
                "",
            ]
        )
    out += markdown_table(
        ["recipe", "ours", "seen", "unseen avg", "paper 5B unseen avg", "paper 55B unseen avg"],
        lines,
    )
    out += [
        "## Knowledge retention (`rt2 eval-knowledge`)",
        "",
        "Multiple-choice accuracy by answer likelihood among candidates, %, [95% Wilson "
        "interval] (n questions; chance = mean 1 / #candidates). The paper argues co-fine-tuning "
        "keeps web knowledge; it reports no such number.",
        "",
    ]
    present = {s for k in t["knowledge"].values() if k for s in k}
    sets = [s for s in ("knowledge", "vqa", "caption") if s in present] + sorted(
        present - {"knowledge", "vqa", "caption"}
    )
    lines = []
    for r in rows:
        k = t["knowledge"].get(r.spec) if r.shipped else None
        if not r.shipped:
            lines.append([f"{r.label} (`{r.spec}`)", NOT_SHIPPED, *[""] * (len(sets) - 1)])
        elif k is None:
            lines.append([f"{r.label} (`{r.spec}`)", "no language model", *[""] * (len(sets) - 1)])
        else:
            lines.append(
                [
                    f"{r.label} (`{r.spec}`)",
                    *(
                        f"{cell(k[s])} (n {k[s].n}, chance {100 * (k[s].chance or 0.0):.0f})"
                        if s in k
                        else "-"
                        for s in sets
                    ),
                ]
            )
    out += markdown_table(["model", *sets] if sets else ["model", "-"], lines)
    shipped = [r for r in rows if r.shipped]
    families = sorted({f for r in shipped for f in t["families"][r.spec] if f != "all"})
    out += [
        "## Per task family (Language-Table families, all suites pooled)",
        "",
        f"Success %, [95% Wilson interval]; {counts}, split by the task family each episode drew.",
        "",
    ]
    fam_lines = [
        [f, *(cell(t["families"][r.spec].get(f)) for r in shipped)] for f in [*families, "all"]
    ]
    out += markdown_table(["task family", *(f"`{r.spec}`" for r in shipped)], fam_lines)
    sim = ", ".join(f"{k} {v:g}±{s:g}" for k, (v, s) in paper.LANGUAGE_TABLE.items())
    out += [f"Paper, Language-Table simulation (all tasks, success %): {sim}.", ""]
    return out
