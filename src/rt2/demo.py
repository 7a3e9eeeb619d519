"""The main job on a laptop CPU: the shipped VLA acting beside RT-1 and a random policy.

1. time one batched step of each policy on this machine and size the evaluation to the time
   budget (the estimate printed is measured here, not carried over from another CPU);
2. evaluate every policy closed loop on the paper's suites (same episodes for all), GIFs of
   the VLA acting with the plan it wrote;
3. write ``report.md`` / ``report.json`` (success with 95% CIs, estimated and actual time) and a
   bar chart.

``fine_tune`` first collects expert demonstrations and co-fine-tunes the shipped tiny VLA
(``rt2:tiny-vla``) on them mixed 50/50 with web data (the pipeline a user runs on their own
robot's data), and evaluates it beside the others. Every stage resumes when re-run.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rt2.evaluation.runner import EVAL_SEED, PAPER_SUITES
from rt2.training.presets import DEMO_STEPS

if TYPE_CHECKING:
    from rt2.evaluation.report import Group, Summary

#: (spec, short label) evaluated by default; a name not shipped yet runs as its shipped
#: milestone (``rt2.evaluation.reproduce.KNOWN``'s stand-ins), labelled as such.
DEMO_POLICIES: tuple[tuple[str, str], ...] = (
    ("rt2:rt2-mini", "RT-2 mini (VLA)"),
    ("rt2:rt1", "RT-1"),
    ("random", "random"),
)
FINE_TUNED = "tiny VLA (co-fine-tuned here)"
CALIBRATION_CALLS = 2  # timed policy calls per policy, after one warm-up call


@dataclass(frozen=True)
class DemoConfig:
    out: Path = Path("runs/demo")
    policies: tuple[tuple[str, str], ...] = DEMO_POLICIES
    budget_minutes: float = 14.0  # evaluation time the episode count is sized to (worst case)
    eval_episodes: int = 100  # at most, per suite and policy (100: Wilson intervals ~+-9 points)
    min_episodes: int = 10  # at least, whatever the budget
    suites: tuple[str, ...] = PAPER_SUITES
    max_steps: int = 40  # episode limit in evaluation (the expert needs ~14)
    videos: int = 2  # GIFs per suite of the VLA (the first policy)
    num_envs: int = 16
    seed: int = 0
    fine_tune: bool = False  # also collect demonstrations and co-fine-tune rt2:tiny-vla
    episodes: int = 800  # expert demonstrations collected (fine_tune)
    noise: float = 0.2  # expert action noise while collecting (labels stay noise-free)
    steps: int = DEMO_STEPS  # optimizer steps of 32 samples (fine_tune)

    def __post_init__(self) -> None:
        for name in ("episodes", "steps", "eval_episodes", "min_episodes", "max_steps", "num_envs"):
            if getattr(self, name) < 1:
                raise ValueError(f"DemoConfig.{name}: expected >= 1, got {getattr(self, name)}")
        if self.budget_minutes <= 0:
            raise ValueError(f"DemoConfig.budget_minutes: expected > 0, got {self.budget_minutes}")
        if not self.policies and not self.fine_tune:
            raise ValueError("DemoConfig.policies: expected at least one policy (or fine_tune)")


QUICK = {
    "episodes": 12,
    "steps": 6,
    "eval_episodes": 2,
    "min_episodes": 1,
    "max_steps": 10,
    "videos": 1,
    "num_envs": 2,
    "suites": ("seen",),
}


def run_demo(config: DemoConfig, console: Console | None = None) -> dict[str, Any]:
    """Run every stage (skipping finished ones) and return the combined report."""
    console = console or Console()
    t0 = time.perf_counter()
    out = Path(config.out)
    timings: dict[str, float] = {}
    console.rule("[bold]rt2 demo")
    specs = resolve_policies(config.policies)
    names = ", ".join(label for _, label, _ in specs) or "none"
    console.print(
        f"Closed-loop evaluation of {names} on {len(config.suites)} suites "
        f"(the same episodes for every policy): at most {config.eval_episodes} per suite, fewer "
        f"if each policy's speed measured on this machine says they would take more than "
        f"{config.budget_minutes:g} minutes."
    )
    train = None
    if config.fine_tune:
        console.rule("collect expert demonstrations (tabletop `seen` suite)")
        start = time.perf_counter()
        data_dir = _collect(config, out / "data" / "seen", console)
        timings["collect_s"] = time.perf_counter() - start
        console.rule("co-fine-tune rt2:tiny-vla on the new demonstrations + web data (50/50)")
        start = time.perf_counter()
        train = _train(config, data_dir, out / "train", console)
        timings["train_s"] = time.perf_counter() - start
        specs.append((str(out / "train"), FINE_TUNED, "rt2:tiny-vla co-fine-tuned in this demo"))

    console.rule("measure each policy's speed here; size the evaluation")
    start = time.perf_counter()
    policies = {label: _load(spec, config) for spec, label, _ in specs}
    step_s = {label: step_seconds(p, config) for label, p in policies.items()}
    n = episodes_for_budget(step_s, config)
    estimate = estimate_seconds(step_s, n, config)
    timings["calibrate_s"] = time.perf_counter() - start
    _print_plan(step_s, n, estimate, config, console)

    console.rule("closed-loop evaluation")
    start = time.perf_counter()
    from rt2.evaluation.reproduce import slug

    summaries = {
        label: _evaluate(
            config,
            n,
            policies[label],
            out / "eval" / slug(spec),
            config.videos if i == 0 else 0,
            console,
        )
        for i, (spec, label, _) in enumerate(specs)
    }
    timings["eval_s"] = time.perf_counter() - start
    timings["eval_estimate_s"] = estimate
    timings["total_s"] = time.perf_counter() - t0
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(config).items()},
        "policies_evaluated": {
            label: {"spec": spec, "about": about} for spec, label, about in specs
        },
        "videos": str(out / "eval" / slug(specs[0][0])) if specs else None,
        "episodes_per_suite": n,
        "seconds_per_env_step": step_s,
        "train": train,
        "policies": {name: s.suites for name, s in summaries.items()},
        "timings": timings,
    }
    _write(report, out, console)
    return report


def resolve_policies(policies: tuple[tuple[str, str], ...]) -> list[tuple[str, str, str]]:
    """Each (spec, label) as it will run, with what it is: a shipped name not in the package
    yet runs as its shipped stand-in, described as that milestone (e.g. ``step 1,500 of 6,000``)."""
    from rt2.evaluation.reproduce import KNOWN
    from rt2.weights import is_shipped

    known = {m.spec: m for m in KNOWN}
    out = []
    for spec, label in policies:
        info = known.get(spec)
        if info is not None and info.stand_in and not is_shipped(spec):
            spec, info = info.stand_in, known.get(info.stand_in)
        out.append((spec, label, info.label if info else spec))
    return out


def step_seconds(policy: Any, config: DemoConfig) -> float:
    """Wall seconds per environment step of ``policy`` on this machine, at worst: ``num_envs``
    `seen` envs in lockstep, timed after a warm-up call. A policy that returns chunks of K
    actions and plays P of them per call (:func:`~rt2.evaluation.chunking.played_steps`) is, once
    episodes have ended at different steps, asked every step for the ~N/P envs whose actions ran
    out, so one call of that size per lockstep round is timed (``N`` for P=1)."""
    from rt2.evaluation.chunking import played_steps, query_chunks
    from rt2.evaluation.runner import EvalConfig

    cfg = EvalConfig(("seen",), 1, num_envs=config.num_envs, max_steps=config.max_steps)
    envs = [cfg.make_env("seen") for _ in range(config.num_envs)]
    try:
        if hasattr(policy, "bind"):
            policy.bind(envs)
        policy.reset()
        obs = []
        for i, env in enumerate(envs):
            seed = EVAL_SEED + 900_000 + i
            obs.append({**env.reset(seed=seed)[0], "env_slot": i})
            if hasattr(policy, "start_episode"):
                policy.start_episode(i, seed)
        chunks = query_chunks(policy, obs)  # warm-up: (N, K, D)
        played = played_steps(policy, cfg.execution, chunks.shape[1])  # as the evaluation plays
        batch = obs[: math.ceil(len(obs) / played)]
        start = time.perf_counter()
        for _ in range(CALIBRATION_CALLS):
            query_chunks(policy, batch)
        per_round = (time.perf_counter() - start) / CALIBRATION_CALLS
        start = time.perf_counter()
        for env, action in zip(envs, chunks[:, 0], strict=True):
            env.step(action)
        return per_round / len(envs) + (time.perf_counter() - start) / len(envs)
    finally:
        for env in envs:
            env.close()


def estimate_seconds(step_s: dict[str, float], episodes: int, config: DemoConfig) -> float:
    """Evaluation time if every episode ran to ``max_steps`` (an upper bound: successes end
    sooner)."""
    return len(config.suites) * episodes * config.max_steps * sum(step_s.values())


def episodes_for_budget(step_s: dict[str, float], config: DemoConfig) -> int:
    """The most episodes per suite (within ``min_episodes`` .. ``eval_episodes``) whose worst
    case fits ``budget_minutes``."""
    per_episode = estimate_seconds(step_s, 1, config)
    fit = math.floor(config.budget_minutes * 60 / per_episode) if per_episode > 0 else 10**9
    return max(config.min_episodes, min(config.eval_episodes, fit))


def _print_plan(
    step_s: dict[str, float], n: int, estimate: float, config: DemoConfig, console: Console
) -> None:
    table = Table(title=f"measured on this machine: {n} episodes per suite")
    table.add_column("policy")
    table.add_column("ms per env step", justify="right")
    table.add_column("minutes (at most)", justify="right")
    for label, s in step_s.items():
        worst = estimate_seconds({label: s}, n, config)
        table.add_row(label, f"{s * 1000:.0f}", f"{worst / 60:.1f}")
    console.print(table)
    console.print(
        f"Evaluation: about {estimate / 60:.1f} minutes at most ({n} episodes x "
        f"{len(config.suites)} suites per policy, each at most {config.max_steps} steps)."
    )


def _load(spec: str, config: DemoConfig) -> Any:
    from rt2.policies import load_policy

    return load_policy(spec, seed=config.seed)


def _collect(config: DemoConfig, root: Path, console: Console) -> Path:
    from rt2.data.collect import CollectConfig, collect

    progress = Progress(
        TextColumn("[bold]collect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("collect", total=config.episodes)

        def on_episode(*_: Any) -> None:
            progress.advance(task)

        stats = collect(
            CollectConfig(out=root, episodes=config.episodes, seed=config.seed, noise=config.noise),
            on_episode=on_episode,
        )
    console.print(f"dataset {root}: {stats}")
    return root


def _train(config: DemoConfig, data_dir: Path, run_dir: Path, console: Console) -> dict[str, Any]:
    from rt2.training.checkpoint import latest_checkpoint, read_json
    from rt2.training.presets import get_preset
    from rt2.training.trainer import Trainer

    preset = get_preset("tiny-demo")
    cfg = replace(preset, seed=config.seed, optim=replace(preset.optim, steps=config.steps))
    if config.steps < 50:  # quick mode: keep warm-up and logging inside the run
        cfg = replace(
            cfg,
            optim=replace(cfg.optim, warmup_steps=1, batch_size=8),
            data=replace(cfg.data, eval_samples=8, eval_episodes=2),
            log_every=1,
            eval_every=config.steps,
        )
    ckpt = latest_checkpoint(run_dir)
    done = ckpt is not None and int(ckpt.name.removeprefix("step-")) >= config.steps
    if done:
        console.print(f"already trained: {ckpt}")
        return {"checkpoint": str(ckpt), "steps": config.steps, "resumed": True}
    result = Trainer(cfg, run_dir, data_dir, resume=ckpt is not None, console=console).run()
    console.print(f"{result.summary()}: {result.eval_metrics}")
    return {
        "checkpoint": str(result.checkpoint),
        "steps": result.step,
        "seconds": result.seconds,
        "eval": result.eval_metrics,
        "config": read_json(result.checkpoint, "config.json") if result.checkpoint else None,
    }


def _evaluate(
    config: DemoConfig, episodes: int, policy: Any, out: Path, videos: int, console: Console
) -> Summary:
    from rt2.evaluation.report import run_metadata, write_report
    from rt2.evaluation.runner import EvalConfig, run_evaluation

    eval_cfg = EvalConfig(
        suites=config.suites,
        episodes=episodes,
        seed=EVAL_SEED + config.seed,  # disjoint from the collection seeds
        num_envs=config.num_envs,
        max_steps=config.max_steps,
        videos=videos,
    )
    progress = Progress(
        TextColumn(f"[bold]eval {out.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("eval", total=len(config.suites) * episodes)
        records = run_evaluation(
            eval_cfg, policy, on_episode=lambda _: progress.advance(task), video_dir=out
        )
    meta = run_metadata(None, eval_cfg.seed, {"policy": out.name, "config": asdict(eval_cfg)})
    return write_report(out, records, meta)


def _write(report: dict[str, Any], out: Path, console: Console) -> None:
    """report.json, report.md and success_rates.png: success per suite and policy."""
    from rt2.data.format import atomic_write, atomic_write_json
    from rt2.evaluation.markdown import markdown_table
    from rt2.evaluation.plots import plot_grouped
    from rt2.evaluation.rates import cell, jsonable

    policies: dict[str, dict[str, Group]] = report["policies"]
    names = list(policies)
    suites = list(policies[names[0]])
    rows = [[s, *(cell(policies[n][s].success) for n in names)] for s in suites]
    table = Table(title="success rate, % [95% Wilson CI]")
    table.add_column("suite")
    for n in names:
        table.add_column(n, justify="right")
    for row in rows:
        table.add_row(*row)
    t, n_eps = report["timings"], report["episodes_per_suite"]
    stages = ", ".join(
        f"{k.removesuffix('_s')} {t[k]:.0f}s"
        for k in ("collect_s", "train_s", "calibrate_s", "eval_s")
        if k in t
    )
    which = [
        f"- **{label}**: `{p['spec']}`, {p['about']}"
        for label, p in report["policies_evaluated"].items()
    ]
    lines = [
        "# rt2 demo report",
        "",
        f"Every policy ran the same {n_eps} episodes per suite (episode i: seed "
        f"{EVAL_SEED + report['config']['seed']} + i), "
        "closed loop; success %, [95% Wilson interval].",
        "",
        *which,
        "",
        *markdown_table(["suite", *names], rows),
        f"Wall time: {t['total_s'] / 60:.1f} min ({stages}); the evaluation was estimated at "
        f"{t['eval_estimate_s'] / 60:.1f} min at most from each policy's speed measured on this machine "
        f"({', '.join(f'{k} {v * 1000:.0f} ms' for k, v in report['seconds_per_env_step'].items())} per env step).",
        "",
        "![success rates](success_rates.png)",
        "",
        f"Videos of the first policy acting: `{report['videos']}/*.gif`; per-family tables: "
        "`eval/*/report.md`.",
    ]
    series = {n: [policies[n][s].success for s in suites] for n in names}
    plot_grouped(
        out / "success_rates.png", suites, series, "rt2 demo: closed-loop success (95% CI)"
    )
    atomic_write_json(out / "report.json", jsonable(report))
    atomic_write(
        out / "report.md", lambda p: p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    )
    console.print(table)
    console.print(
        f"wall time {t['total_s'] / 60:.1f} min; report: {out / 'report.md'}, plot: {out / 'success_rates.png'}"
    )
    if report["videos"]:
        console.print(f"videos: {sorted(str(p) for p in Path(report['videos']).glob('*.gif'))[:4]}")
