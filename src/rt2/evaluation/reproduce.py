"""``rt2 reproduce``: the RT-2 paper's tables in miniature, from shipped checkpoints.

Every model runs the same episodes (episode ``i`` of a suite: seed ``seed + i``) on the five
suites; each (model, suite) cell appends its episodes to ``cells/MODEL/SUITE.jsonl`` as they
finish, so a rerun plays only what is missing (and ``--episodes`` can grow later). VLAs are also
scored for web-knowledge retention. From the records come ``report.json``, ``report.md`` (the
tables of :mod:`rt2.evaluation.reproduce_tables`, the paper's numbers beside ours) and bar
charts. Shipped names that do not exist yet are reported as "not shipped yet".
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rt2.data.format import read_json
from rt2.evaluation import paper
from rt2.evaluation import reproduce_tables as rt
from rt2.evaluation.distributed import PolicySpec, WorkerPool, Workers, evaluate
from rt2.evaluation.episode_log import (
    SuiteLogs,
    suite_fingerprint,
    weights_fingerprint,
)
from rt2.evaluation.reproduce_report import REPORT_MD, summary_table, write_reproduce_report
from rt2.evaluation.runner import (
    EVAL_SEED,
    PAPER_SUITES,
    EpisodeJob,
    EpisodeRecord,
    EvalConfig,
    plan_episodes,
)
from rt2.policies import SCRIPTED


@dataclass(frozen=True)
class ModelInfo:
    """A row the report knows: its label, paper counterparts and measured cost (seconds per
    40-step episode with 8 envs in lockstep and one torch thread on a 2-core machine; seconds
    of its knowledge scoring) for the runtime stated up front. ``stand_in``: the milestone the
    row evaluates while this name is not shipped (a run still on its way to its goal)."""

    spec: str
    label: str
    paper: str | None = None  # Table 1 / emergent counterpart
    ablation: str | None = None  # Table 6 recipe
    seconds_per_episode: float = 3.0
    knowledge_seconds: float = 60.0
    stand_in: str | None = None


def _rt2_mini(spec: str, label: str, **kw: Any) -> ModelInfo:
    """An rt2-mini row (the v1 recipe: autoregressive plans; the Table 6 rows)."""
    return ModelInfo(spec, label, seconds_per_episode=5.0, knowledge_seconds=150, **kw)


def _rt2_mini_v2(spec: str, label: str, **kw: Any) -> ModelInfo:
    """An rt2-mini v2 row: head-written plan, one action per call (measured at step 2,500,
    session 19: 1.7 s per episode with 16 envs, knowledge 64 s)."""
    return ModelInfo(spec, label, seconds_per_episode=2.0, knowledge_seconds=70, **kw)


BLIND = "blind-expert"  # in every report: the success a policy gets with no understanding
BLIND_LABEL = "concept-blind expert (ceiling of luck)"
ABLATION_BUDGET = "5,600 robot samples"  # the Table 6 rows' common budget
KNOWN: tuple[ModelInfo, ...] = (
    _rt2_mini_v2(
        "rt2:rt2-mini",
        "RT-2 mini, co-fine-tuned",
        paper="RT-2-PaLI-X-55B",
        stand_in="rt2:rt2-mini-v2-wip",
    ),
    _rt2_mini(
        "rt2:rt2-mini-co", f"RT-2 mini, co-fine-tuned, {ABLATION_BUDGET}", ablation="co-fine-tuned"
    ),
    _rt2_mini(
        "rt2:rt2-mini-ft", f"RT-2 mini, robot data only, {ABLATION_BUDGET}", ablation="fine-tuned"
    ),
    _rt2_mini(
        "rt2:rt2-mini-scratch",
        f"RT-2 mini, no pretrained weights, {ABLATION_BUDGET}",
        ablation="from scratch",
    ),
    ModelInfo("rt2:rt1", "RT-1", "RT-1", None, 1.0, 0, stand_in="rt2:rt1-wip"),
    ModelInfo("rt2:tiny-vla", "tiny VLA, co-fine-tuned", None, None, 2.7, 25),
    ModelInfo("random", "random policy", None, None, 0.02, 0),
    ModelInfo("blind-expert", BLIND_LABEL, None, None, 0.02, 0),
    # milestones standing in for rows whose goal is not reached yet (model cards in weights/)
    _rt2_mini_v2(
        "rt2:rt2-mini-v2-wip",
        "RT-2 mini, co-fine-tuned (step 2,500 of 6,000; 28,000 robot samples)",
        paper="RT-2-PaLI-X-55B",
    ),
    ModelInfo("rt2:rt1-wip", "RT-1 (144,000 robot samples)", "RT-1", None, 1.0, 0),
)
DEFAULT_MODELS: tuple[str, ...] = tuple(
    m.spec for m in KNOWN if not any(k.stand_in == m.spec for k in KNOWN)
)


@dataclass(frozen=True)
class ReproduceConfig:
    """What to evaluate and how much of it; ``quick()`` is the few-episode smoke version."""

    out: Path
    models: tuple[str, ...] = DEFAULT_MODELS
    episodes: int = 50  # per suite and model
    seed: int = EVAL_SEED  # episode i uses seed + i (disjoint from the collection seeds 0...)
    max_steps: int = 40  # per episode (the scripted expert needs ~14)
    num_envs: int = 8
    knowledge_sets: tuple[str, ...] = ("knowledge", "vqa", "caption")
    vqa_questions: int = 100
    knowledge_limit: int | None = None  # questions per set (None: all)
    quick: bool = False
    workers: Workers = field(default_factory=Workers)
    plots: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "models", tuple(dict.fromkeys(self.models)))
        if not self.models:
            raise ValueError("ReproduceConfig.models: expected at least one model")
        from rt2.evaluation.knowledge import SETS

        bad = [k for k in self.knowledge_sets if k not in SETS]
        if not self.knowledge_sets or bad:
            raise ValueError(
                f"ReproduceConfig.knowledge_sets: expected a non-empty subset of {list(SETS)}, "
                f"got {list(self.knowledge_sets)}"
            )
        for name in ("episodes", "max_steps", "num_envs", "vqa_questions"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"ReproduceConfig.{name}: expected >= 1, got {getattr(self, name)}"
                )

    @classmethod
    def quick_config(cls, out: Path, **kwargs: Any) -> ReproduceConfig:
        """A few short episodes per cell and a slice of the knowledge questions (minutes)."""
        quick = {"episodes": 2, "max_steps": 20, "num_envs": 2, "knowledge_sets": ("knowledge",)}
        return cls(out, **{**quick, "knowledge_limit": 24, **kwargs, "quick": True})

    def eval_config(self, suite: str) -> EvalConfig:
        return EvalConfig(
            (suite,), self.episodes, self.seed, self.num_envs, max_steps=self.max_steps, videos=0
        )


def model_rows(models: Sequence[str]) -> list[tuple[rt.Row, ModelInfo]]:
    """The report's rows (the concept-blind expert's always among them, last unless named);
    a known ``rt2:NAME`` that is not in the package is evaluated through
    its shipped stand-in (the row then carries the stand-in's name and label) or else marked
    "not shipped yet"; an unknown name or a missing path raises (with the closest shipped name)."""
    from rt2.weights import PREFIX, is_shipped, resolve

    known = {m.spec: m for m in KNOWN}
    rows: dict[str, tuple[rt.Row, ModelInfo]] = {}
    for spec in (*models, BLIND):
        info = known.get(spec, ModelInfo(spec, spec))
        if info.stand_in and not is_shipped(spec) and is_shipped(info.stand_in):
            spec, info = info.stand_in, known.get(info.stand_in, ModelInfo(info.stand_in, spec))
        status = "evaluated"
        if spec.startswith(PREFIX) and not is_shipped(spec):
            if spec not in known:
                resolve(spec)  # raises, naming what is shipped
            status = rt.NOT_SHIPPED
        elif spec not in SCRIPTED and not resolve(spec).exists():
            raise FileNotFoundError(f"--models {spec!r}: no such checkpoint or shipped name")
        rows.setdefault(spec, (rt.Row(spec, info.label, status, info.paper, info.ablation), info))
    return list(rows.values())


def slug(spec: str) -> str:
    """A directory name for a model spec (``rt2:tiny-vla`` -> ``rt2-tiny-vla``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", spec).strip("-.") or "model"


def is_vla_checkpoint(spec: str) -> bool:
    if spec in SCRIPTED:
        return False
    from rt2.training.checkpoint import latest_checkpoint, model_kind
    from rt2.weights import resolve

    ckpt = latest_checkpoint(resolve(spec))
    return ckpt is not None and (ckpt / "vla.json").is_file() and model_kind(ckpt) == "vla"


def fingerprint(spec: str, config: ReproduceConfig) -> dict[str, Any]:
    """What a cell's episodes depend on besides their index: a rerun must match it."""
    env = asdict(config.eval_config("seen"))
    keep = ("seed", "max_steps", "image_size", "env_id", "terminate_action", "execution")
    return {
        "policy": spec,
        "weights": weights_fingerprint(spec),
        "suite_files": {s: suite_fingerprint(s) for s in PAPER_SUITES},
        **{k: env[k] for k in keep},
    }


def _cell_hint(mdir: Path) -> str:
    """How to get past a model directory that holds another configuration's episodes."""
    return f"use another --out or delete {mdir} to re-run that model"


def _write_cell(mdir: Path, state: dict[str, Any]) -> None:
    """Save a model's wall time over all runs and its largest episode count (``cell.json``)."""
    from rt2.data.format import atomic_write_json

    mdir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(mdir / "cell.json", state)


def estimate_seconds(
    rows: Sequence[tuple[rt.Row, ModelInfo]], todo: dict[str, int], config: ReproduceConfig
) -> float:
    """Expected wall time of what is left: measured per-episode costs, scaled by episode length
    and the number of workers."""
    scale = config.max_steps / 40 / max(1, config.workers.workers)
    total = 0.0
    for row, info in rows:
        if row.shipped:
            total += todo.get(row.spec, 0) * info.seconds_per_episode * scale
            if todo.get(f"{row.spec}/knowledge"):
                total += info.knowledge_seconds * (0.2 if config.knowledge_limit else 1.0)
    return total


def reproduce(
    config: ReproduceConfig, console: Console | None = None, argv: Sequence[str] | None = None
) -> dict[str, Any]:
    """Run (or resume) every cell, then write report.json, report.md and the plots."""
    console = console or Console(stderr=True)
    t0 = time.perf_counter()
    rows = model_rows(config.models)
    shipped = [(r, i) for r, i in rows if r.shipped]
    cells = config.out / "cells"
    todo: dict[str, int] = {}
    cell_logs: dict[str, tuple[SuiteLogs, dict[str, Any]]] = {}
    for row, _ in shipped:  # every model checked before any episode runs
        mdir = cells / slug(row.spec)
        logs, fp = SuiteLogs(mdir, PAPER_SUITES), fingerprint(row.spec, config)
        logs.check(fp, _cell_hint(mdir))
        cell_logs[row.spec] = logs, fp
        done = logs.read()
        todo[row.spec] = sum(len(_missing(done[s], config, s)) for s in PAPER_SUITES)
        todo[f"{row.spec}/knowledge"] = int(
            is_vla_checkpoint(row.spec) and _cached_knowledge(mdir, config) is None
        )
    eta = estimate_seconds(rows, todo, config)
    n_todo = sum(todo[r.spec] for r, _ in shipped)
    console.rule("[bold]rt2 reproduce" + (" --quick" if config.quick else ""))
    console.print(
        f"{len(shipped)} models x {len(PAPER_SUITES)} suites x {config.episodes} episodes "
        f"(seeds {config.seed}..{config.seed + config.episodes - 1}, {config.max_steps} steps max), "
        f"knowledge retention for each VLA; {config.workers.describe()}.\n"
        f"To run: {n_todo} episodes. Expected runtime: about {_minutes(eta)} (per-episode costs "
        "measured on 2 CPU cores; the bar's estimate follows the actual rate). Resumable: rerun "
        "the same command to continue."
    )
    for row, _ in rows:
        if not row.shipped:
            console.print(f"  {row.spec}: {rt.NOT_SHIPPED}")
    records: dict[str, list[EpisodeRecord]] = {}
    knowledge: dict[str, dict[str, Any] | None] = {}
    model_seconds: dict[str, float] = {}
    totals: dict[str, float] = {}  # per model, over every run that filled its cells
    ran = 0
    progress = Progress(
        TextColumn("[bold]reproduce"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
    )
    pool = contextlib.nullcontext() if config.workers.serial else WorkerPool(config.workers)
    with progress, pool as workers:
        task = progress.add_task("episodes", total=n_todo, status="")
        for row, _ in shipped:
            start = time.perf_counter()
            mdir = cells / slug(row.spec)
            logs, fp = cell_logs[row.spec]
            logs.open(fp, resume=True, hint=_cell_hint(mdir))
            state = read_json(mdir / "cell.json", None) or {"wall_seconds": 0.0}
            cells_of, policy, n = _run_cells(
                row.spec, logs, config, workers, progress, task, console
            )
            records[row.spec], ran = cells_of, ran + n
            progress.update(task, status=f"{row.spec} | knowledge")
            k_start = time.perf_counter()
            knowledge[row.spec] = _knowledge(row.spec, mdir, config, policy)
            model_seconds[row.spec] = time.perf_counter() - start
            if knowledge[row.spec] is not None and todo[f"{row.spec}/knowledge"]:
                model_seconds[f"{row.spec} (knowledge)"] = time.perf_counter() - k_start
            state["wall_seconds"] = state.get("wall_seconds", 0.0) + model_seconds[row.spec]
            state["episodes"] = max(state.get("episodes", 0), config.episodes)
            _write_cell(mdir, state)
            totals[row.spec] = state["wall_seconds"]
    meta = _meta(config, rows, model_seconds, ran, time.perf_counter() - t0, argv)
    meta["model_seconds_all_runs"] = totals
    report = write_reproduce_report(config, [r for r, _ in rows], records, knowledge, meta)
    console.print(summary_table([r for r, _ in rows], report["tables"]))
    console.print(f"report: {config.out / REPORT_MD} ({_minutes(meta['wall_seconds'])})")
    return report


def _missing(
    done: dict[int, EpisodeRecord], config: ReproduceConfig, suite: str
) -> list[EpisodeJob]:
    """The episodes of ``suite`` not among ``done`` yet."""
    return [j for j in plan_episodes(config.eval_config(suite)) if j.index not in done]


def _run_cells(
    spec_name: str,
    logs: SuiteLogs,
    config: ReproduceConfig,
    pool: WorkerPool | None,
    progress: Progress,
    task: Any,
    console: Console,
) -> tuple[list[EpisodeRecord], Any, int]:
    """Fill one model's suite cells: (its records, the policy if built here, episodes run)."""
    spec, policy, ran = PolicySpec(spec_name), None, 0
    records: list[EpisodeRecord] = []
    for suite in PAPER_SUITES:
        jobs = _missing(logs.logs[suite].read(), config, suite)  # open() repaired the log
        if jobs:
            start = time.perf_counter()
            progress.update(task, status=f"{spec_name} | {suite}")
            if policy is None and config.workers.serial:
                policy = spec.build()  # once per model, for every suite and its knowledge

            def on_episode(rec: EpisodeRecord) -> None:
                logs.append(rec)  # flushed: a crash loses only the episodes in flight
                progress.advance(task)

            evaluate(
                spec,
                config.eval_config(suite),
                jobs=jobs,
                workers=config.workers,
                on_episode=on_episode,
                policy=policy,
                pool=pool,
            )
            ran += len(jobs)
        done = logs.logs[suite].read()
        records += [done[i] for i in range(config.episodes)]
        if jobs:
            wins = sum(r.success for r in records[-config.episodes :])
            console.print(
                f"{spec_name} | {suite}: {wins}/{config.episodes} successes "
                f"({len(jobs)} run, {time.perf_counter() - start:.0f} s)"
            )
    return records, policy, ran


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _knowledge(
    spec: str, mdir: Path, config: ReproduceConfig, policy: Any
) -> dict[str, Any] | None:
    """The cell's knowledge-retention result (computed once, then read back); None for
    policies that are not VLAs."""
    from rt2.evaluation.knowledge import KnowledgeEvalConfig, evaluate_knowledge, write_json

    if not is_vla_checkpoint(spec):
        return None
    cached = _cached_knowledge(mdir, config)
    if cached is not None:
        return cached
    model = getattr(policy, "model", None) if policy is not None else None
    if model is None:
        model = PolicySpec(spec).build().model  # type: ignore[attr-defined]
    kcfg = KnowledgeEvalConfig(
        sets=config.knowledge_sets,
        vqa_questions=config.vqa_questions,
        exact_match=False,
        limit=config.knowledge_limit,
    )
    result = evaluate_knowledge(model, kcfg, progress=False, source=spec)
    result = {k: v for k, v in result.items() if k != "questions"}
    write_json(result, mdir / "knowledge.json")
    return result


def _cached_knowledge(mdir: Path, config: ReproduceConfig) -> dict[str, Any] | None:
    """The cell's saved knowledge result if it was scored with this configuration's sets."""
    wanted = {
        "sets": list(config.knowledge_sets),
        "vqa_questions": config.vqa_questions,
        "limit": config.knowledge_limit,
    }
    cached = read_json(mdir / "knowledge.json", None)
    if cached is not None and all(cached["config"].get(k) == v for k, v in wanted.items()):
        return cached
    return None


def _meta(
    config: ReproduceConfig,
    rows: Sequence[tuple[rt.Row, ModelInfo]],
    model_seconds: dict[str, float],
    ran: int,
    wall: float,
    argv: Sequence[str] | None,
) -> dict[str, Any]:
    from rt2.evaluation.report import run_metadata

    return run_metadata(
        argv,
        config.seed,
        {
            "suites": list(PAPER_SUITES),
            "episodes_per_suite": config.episodes,
            "seeds": f"{config.seed}..{config.seed + config.episodes - 1} (episode i: seed + i)",
            "max_steps": config.max_steps,
            "num_envs": config.num_envs,
            "quick": config.quick,
            "workers": config.workers.describe(),
            "knowledge": {
                "sets": list(config.knowledge_sets),
                "vqa_questions": config.vqa_questions,
                "limit": config.knowledge_limit,
            },
            "models": {r.spec: r.status for r, _ in rows},
            "model_seconds": model_seconds,
            "episodes_run": ran,
            "wall_seconds": wall,
            "paper_source": paper.SOURCE,
        },
    )
