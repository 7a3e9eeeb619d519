"""The trainer: co-fine-tuning on a robot/web mixture with Hugging Face Accelerate.

One optimizer step = one global batch drawn from the mixture for that step (deterministic per
seed and step), split across processes and into gradient-accumulation micro-batches. Runs on one
CPU as is, or on many GPUs/nodes with ``accelerate launch -m rt2.cli train ...``.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rt2.data.mixture import Mixture
from rt2.precision import inference_precision, training_precision
from rt2.training.checkpoint import (
    describe_removed,
    latest_checkpoint,
    read_json,
    remove_stale_temporaries,
    save_checkpoint,
)
from rt2.training.config import TrainConfig
from rt2.training.factory import build_model
from rt2.training.schedule import learning_rate
from rt2.training.train_data import eval_samples, load_train_data


@dataclass
class TrainResult:
    out_dir: Path
    checkpoint: Path | None
    step: int  # the run's step at the end (a resumed run counts the steps before it too)
    metrics: dict[str, float] = field(default_factory=dict)  # last logged training metrics
    eval_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0  # this run's time
    start_step: int = 0  # the step this run started at (> 0 when resumed)
    batch_size: int = 0  # samples per optimizer step (all processes)

    @property
    def steps_this_run(self) -> int:
        return self.step - self.start_step

    @property
    def samples_this_run(self) -> int:
        return self.steps_this_run * self.batch_size

    @property
    def samples(self) -> int:
        """Samples trained on in all, over every run that led here."""
        return self.step * self.batch_size

    def summary(self) -> str:
        """What this run trained, and in all when it was resumed."""
        text = (
            f"trained {self.steps_this_run} steps ({self.samples_this_run:,} samples) "
            f"in {self.seconds:.0f}s"
        )
        if self.start_step:
            text += (
                f", resumed at step {self.start_step}: {self.step} steps "
                f"({self.samples:,} samples) in all"
            )
        return text


class Trainer:
    """Builds data, model and optimizer from a :class:`TrainConfig` and runs the loop."""

    def __init__(
        self,
        config: TrainConfig | None,
        out_dir: str | Path,
        data_dir: str | Path | None = None,
        resume: bool | str | Path = False,
        console: Console | None = None,
    ) -> None:
        """``resume``: True continues the newest checkpoint in ``out_dir`` with its saved config;
        a path (or ``rt2:NAME``) continues that checkpoint's run at its step, into ``out_dir``,
        with ``config`` when given (e.g. more steps) or the saved one."""
        self.out_dir = Path(out_dir)
        self.console = console or Console()
        self.start_step = 0
        if isinstance(resume, bool):
            resume_from = latest_checkpoint(self.out_dir) if resume else None
            if resume and resume_from is None:
                self.console.print(
                    f"[yellow]--resume: no checkpoint in {self.out_dir}; starting fresh[/]"
                )
        else:
            resume_from = latest_checkpoint(resume)
            if resume_from is None:
                raise FileNotFoundError(f"--resume-from {resume}: no checkpoint there")
        if resume_from is not None:
            saved = TrainConfig.from_dict(read_json(resume_from, "config.json"))
            if isinstance(resume, bool) or config is None:  # --resume: the run as it was
                if config is not None and config != saved:
                    from rt2.training.config_report import changed_fields

                    ignored = "; ".join(changed_fields(config, saved))
                    self.console.print(
                        f"[yellow]--resume: continuing with the config saved in {resume_from}; "
                        f"not applied (saved -> given): {ignored}[/]"
                    )
                config = saved
            if data_dir is None and (fp := _read_optional(resume_from, "dataset.json")):
                data_dir = fp["path"]
        if config is None:
            raise ValueError(f"nothing to resume in {self.out_dir} and no config given")
        self.config = config
        self.data_dir = data_dir
        # Accelerate keeps one precision per process; a new Trainer (e.g. the next run in a test
        # session or notebook) sets its own. The distributed (partial) state is kept.
        AcceleratorState._reset_state(reset_partial_state=False)
        # cpu=True without a GPU: several launched processes then form a gloo (MULTI_CPU) group
        self.precision = training_precision(config.precision)
        self.accelerator = Accelerator(
            mixed_precision="bf16" if self.precision == "bf16" else "no",
            cpu=not torch.cuda.is_available(),
        )
        if config.precision == "auto" and self.precision == "fp32":
            self.console.print("precision auto: fp32 (no native bf16 on this machine)")
        torch.manual_seed(config.seed)
        self.data = load_train_data(config, data_dir)
        # a resumed run starts from its own checkpoint: the one its model.init named may not
        # exist here (an export continued on another machine)
        start = (
            config.model if resume_from is None else replace(config.model, init=str(resume_from))
        )
        model = build_model(
            start,
            self.data.stats,
            self.data.corpus,
            self.data.action_names,
            self.data.state,
            self.data.cameras,
        )
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise ValueError(f"model.freeze={config.model.freeze} leaves nothing to train")
        decay = [p for p in trainable if p.ndim >= 2]
        no_decay = [p for p in trainable if p.ndim < 2]
        optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": config.optim.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=config.optim.lr,
            betas=(0.9, 0.95),
        )
        if resume_from is not None:  # its weights came in as the model's init above
            self.start_step = self._resume_optimizer(resume_from, optimizer)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.mixture = Mixture(self.data.train, config.data.weights, seed=config.seed)
        self.eval_sets = {
            k: eval_samples(v, config.data.eval_samples) for k, v in self.data.eval.items()
        }
        world = self.accelerator.num_processes
        if config.optim.batch_size % (config.optim.grad_accum * world):
            raise ValueError(
                f"optim.batch_size {config.optim.batch_size} is not divisible by grad_accum x processes "
                f"= {config.optim.grad_accum * world}"
            )
        self.micro = config.optim.batch_size // (config.optim.grad_accum * world)
        self.metrics_path = self.out_dir / "metrics.jsonl"
        if resume and self.accelerator.is_main_process:
            self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """What a save killed mid-write left in this run's checkpoints/ (only temporaries)."""
        root = self.out_dir / "checkpoints"
        if removed := remove_stale_temporaries(root):
            # one line, whatever the terminal's width: a wrapped path cannot be copied
            self.console.print(f"resume: {describe_removed(root, removed)}", soft_wrap=True)

    def _resume_optimizer(self, ckpt: Path, optimizer: torch.optim.Optimizer) -> int:
        """Load the optimizer state of ``ckpt`` and return its step. An exported checkpoint
        has none (``rt2 export`` drops it): AdamW restarts its moments at the recorded step."""
        if (ckpt / "trainer_state.pt").is_file():
            state = torch.load(ckpt / "trainer_state.pt", weights_only=False)
            optimizer.load_state_dict(state["optimizer"])
            return int(state["step"])
        step = int((_read_optional(ckpt, "export.json") or {}).get("step", 0))
        self.console.print(
            f"[yellow]resume: {ckpt} has no optimizer state (an export); continuing at step "
            f"{step} with fresh AdamW moments[/]"
        )
        return step

    @property
    def unwrapped(self):
        return self.accelerator.unwrap_model(self.model)

    # ---- pieces -------------------------------------------------------------------------
    def _checkpoint_files(self) -> dict[str, Any]:
        files: dict[str, Any] = {
            "config.json": self.config.to_dict(),
            "vla.json": self.unwrapped.spec(),
        }
        files["stats.json"] = {"action": self.data.stats} if self.data.stats else {}
        if self.data.state_stats:
            files["stats.json"]["observation.state"] = self.data.state_stats
        if self.data.fingerprint:
            files["dataset.json"] = self.data.fingerprint
        return files

    def save(self, step: int) -> Path | None:
        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            return None
        state = {"optimizer": self.optimizer.state_dict(), "step": step}
        return save_checkpoint(
            self.out_dir,
            step,
            self.unwrapped,
            self._checkpoint_files(),
            state,
            keep_last=self.config.keep_last,
            report=self.console.print,
        )

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Held-out loss per source, and action-token accuracy on held-out robot frames."""
        model = self.unwrapped
        model.eval()
        out: dict[str, float] = {}
        for name, samples in self.eval_sets.items():
            sums: dict[str, float] = {}
            for i in range(0, len(samples), self.micro):
                chunk = samples[i : i + self.micro]
                with self.accelerator.autocast():
                    res = model.loss(model.collate(chunk))
                for key, value in res.metrics.items():
                    sums[key] = sums.get(key, 0.0) + value * len(chunk)
            out[f"eval/{name}_loss"] = sums["loss"] / len(samples)
            if name == "robot":
                out["eval/robot_action_acc"] = sums["action_token_acc"] / len(samples)
                for key in ("action_loss", "action_bin_error"):  # RT-1: the current frame's
                    if key in sums:
                        out[f"eval/robot_{key}"] = sums[key] / len(samples)
        model.train()
        return out

    @torch.no_grad()
    def rollout(self, step: int) -> dict[str, float]:
        """Closed-loop success on ``rollout_episodes`` episodes of ``rollout_suite`` (fixed
        seeds 10000 + i, so points of the learning curve compare), bf16 inference where native."""
        from rt2.evaluation.runner import EVAL_SEED, EvalConfig, run_evaluation
        from rt2.policies import policy_for

        cfg, model = self.config, self.unwrapped
        policy = policy_for(model, cfg)
        precision = getattr(model, "precision", None)
        if precision is not None:
            model.precision = inference_precision()
        t0 = time.perf_counter()
        n = cfg.rollout_episodes
        records = run_evaluation(
            EvalConfig((cfg.rollout_suite,), n, seed=EVAL_SEED, num_envs=min(10, n)), policy
        )
        if precision is not None:
            model.precision = precision
        model.train()
        wins = sum(r.success for r in records)
        return {
            f"rollout/{cfg.rollout_suite}_success": wins / n,
            f"rollout/{cfg.rollout_suite}_successes": wins,
            "rollout/episodes": n,
            "rollout/robot_samples": round(step * cfg.optim.batch_size * _robot_share(cfg)),
            "rollout/seconds": time.perf_counter() - t0,
        }

    def _log(self, record: dict[str, Any]) -> None:
        if self.accelerator.is_main_process:
            with open(self.metrics_path, "a") as f:
                f.write(json.dumps(record) + "\n")

    def _truncate_log(self) -> None:
        """Drop records after the resumed step (they belong to the interrupted tail)."""
        if not self.accelerator.is_main_process or not self.metrics_path.exists():
            return
        keep = [
            line
            for line in self.metrics_path.read_text().splitlines()
            if json.loads(line)["step"] <= self.start_step
        ]
        self.metrics_path.write_text("".join(line + "\n" for line in keep))

    # ---- loop ---------------------------------------------------------------------------
    def train_step(self, step: int) -> dict[str, Any]:
        """One optimizer step (0-based ``step``): forward/backward over micro-batches, clip, update."""
        cfg = self.config
        lr = learning_rate(step, cfg.optim)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        samples, counts = self.mixture.batch(step, cfg.optim.batch_size)
        rank, world = self.accelerator.process_index, self.accelerator.num_processes
        local = samples[rank::world]
        losses, accs, extra = [], [], {}  # extra: the model's other metrics (ground_loss, ...)
        for j in range(cfg.optim.grad_accum):
            chunk = local[j * self.micro : (j + 1) * self.micro]
            batch = self.unwrapped.collate(chunk)
            last = j == cfg.optim.grad_accum - 1
            ctx = self.accelerator.no_sync(self.model) if not last else contextlib.nullcontext()
            with ctx:
                out = self.model(batch)
                self.accelerator.backward(out.loss / cfg.optim.grad_accum)
            losses.append(out.metrics["loss"])
            accs.append(out.metrics["action_token_acc"])
            for k, v in out.metrics.items():
                if k not in ("loss", "action_token_acc"):
                    extra.setdefault(k, []).append(v)
        grad_norm = self.accelerator.clip_grad_norm_(self.model.parameters(), cfg.optim.clip_grad)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        acc = [a for a in accs if not math.isnan(a)]
        return {
            "loss": sum(losses) / len(losses),
            "action_token_acc": sum(acc) / len(acc) if acc else float("nan"),
            "lr": lr,
            "grad_norm": float(grad_norm),
            "processes": world,
            **{f"n_{k}": v for k, v in counts.items()},
            **{k: sum(v) / len(v) for k, v in extra.items()},
        }

    def run(self, stop_after: int | None = None, progress: bool = True) -> TrainResult:
        """Train to ``optim.stop_at`` or ``optim.steps`` (or stop after ``stop_after`` more
        steps, for tests/demos)."""
        cfg = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.accelerator.is_main_process:
            (self.out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
        self._truncate_log()
        last_step = cfg.optim.stop_at or cfg.optim.steps
        end = last_step if stop_after is None else min(last_step, self.start_step + stop_after)
        self.model.train()
        t0 = time.perf_counter()
        last: dict[str, Any] = {}
        eval_metrics: dict[str, float] = {}
        ckpt = None
        columns = [
            TextColumn("[bold]train[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ]
        show = progress and self.accelerator.is_main_process
        with Progress(*columns, console=self.console, disable=not show) as bar:
            task = bar.add_task(cfg.name, total=last_step, completed=self.start_step)
            window_t, window_n = time.perf_counter(), 0
            for step in range(self.start_step, end):
                metrics = self.train_step(step)
                window_n += cfg.optim.batch_size
                done = step + 1
                if done % cfg.log_every == 0 or done == end:
                    now = time.perf_counter()
                    metrics["samples_per_s"] = window_n / max(now - window_t, 1e-9)
                    window_t, window_n = now, 0
                    last = {"step": done, **metrics}
                    self._log(last)
                    bar.update(task, description=f"{cfg.name} loss {metrics['loss']:.3f}")
                if done % cfg.eval_every == 0 or done == last_step:
                    eval_metrics = self.evaluate()
                    self._log({"step": done, **eval_metrics})
                    bar.console.print(
                        f"step {done}: "
                        + ", ".join(f"{k} {v:.4f}" for k, v in eval_metrics.items())
                    )
                if done % cfg.save_every == 0 or done == end:
                    ckpt = self.save(done)
                if cfg.rollout_every and (done % cfg.rollout_every == 0 or done == end):
                    if self.accelerator.is_main_process:
                        result = self.rollout(done)
                        self._log({"step": done, **result})
                        rate = result[f"rollout/{cfg.rollout_suite}_success"]
                        bar.console.print(
                            f"step {done}: closed loop {cfg.rollout_suite} {rate:.0%} "
                            f"({result[f'rollout/{cfg.rollout_suite}_successes']}/"
                            f"{cfg.rollout_episodes}, {result['rollout/seconds']:.0f} s)"
                        )
                    self.accelerator.wait_for_everyone()
                bar.update(task, completed=done)
        return TrainResult(
            self.out_dir,
            ckpt,
            end,
            last,
            eval_metrics,
            time.perf_counter() - t0,
            start_step=self.start_step,
            batch_size=cfg.optim.batch_size,
        )


def _robot_share(config: TrainConfig) -> float:
    """Expected fraction of robot samples in a batch."""
    w = config.data.weights
    return w.get("robot", 0.0) / sum(w.values())


def _read_optional(ckpt: Path, name: str) -> Any:
    try:
        return read_json(ckpt, name)
    except FileNotFoundError:
        return None
