"""Offline evaluation on recorded data (no simulator): a VLA's actions on held-out episodes
against the recorded ones, per dimension in physical units and in bins, token accuracy, and
per-episode plots of predicted vs recorded actions.

>>> report = evaluate_offline(load_model("runs/so100"), "data/so100", OfflineConfig())  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class OfflineConfig:
    """``episodes``: the dataset's last N episodes are evaluated (training holds out the last
    ``data.eval_episodes``: use the same N to score unseen data only)."""

    episodes: int = 8
    batch_size: int = 16
    plots: int = 4  # episodes drawn as predicted-vs-recorded PNGs

    def __post_init__(self) -> None:
        for name, low in (("episodes", 1), ("batch_size", 1), ("plots", 0)):
            if getattr(self, name) < low:
                raise ValueError(
                    f"offline eval {name}: expected >= {low}, got {getattr(self, name)}"
                )


def _held_out(model: Any, root: str | Path, episodes: int) -> Any:
    """The last ``episodes`` episodes of ``root`` as a robot source, with the model's cameras
    and (if it reads it) the state."""
    from rt2.data.reader import EpisodeDataset
    from rt2.data.robot import episodes_source

    ds = EpisodeDataset(root, video_cache_files=max(2, len(model.cameras)))
    if ds.num_episodes == 0:
        raise ValueError(f"dataset {root} has no episodes")
    cameras = tuple(model.cameras)
    missing = [c for c in cameras if c not in ds.image_keys]
    if missing:
        raise ValueError(
            f"the policy sees cameras {list(cameras)}; dataset {root} has {ds.image_keys}"
        )
    part = range(max(0, ds.num_episodes - episodes), ds.num_episodes)
    state = model.state_format is not None
    return episodes_source(ds, part, state, cameras), [ds.episodes[i].index for i in part]


def evaluate_offline(
    model: Any, root: str | Path, config: OfflineConfig, mean_action: np.ndarray | None = None
) -> dict[str, Any]:
    """Greedy actions of ``model`` (a VLA) on the held-out frames of ``root`` against the
    recorded actions. ``mean_action`` (D,): the training mean, scored as a baseline."""
    from rt2.model import VLA

    if not isinstance(model, VLA):
        raise ValueError(f"offline evaluation takes a VLA checkpoint, got {type(model).__name__}")
    source, episode_ids = _held_out(model, root, config.episodes)
    space, tok = model.action_space, model.action_tokenizer
    recorded = source.actions  # (N, D)
    if recorded.shape[1] != space.size:
        raise ValueError(
            f"the policy acts in {space.size} dims {list(space.names)}; dataset {root} records "
            f"{recorded.shape[1]}"
        )
    model.eval()
    predicted, pred_bins, teacher = [], [], []
    for i in range(0, len(source), config.batch_size):
        samples = [source[j] for j in range(i, min(i + config.batch_size, len(source)))]
        states = None if source.states is None else [s.state for s in samples]
        res = model.act_batch(
            [s.image for s in samples], [s.instruction for s in samples], states=states
        )
        predicted.append(res.actions)
        pred_bins.append(res.bins)
        with torch.no_grad():
            acc = model.loss(model.collate(samples)).metrics["action_token_acc"]
        teacher.append(acc * len(samples))
    pred = np.concatenate(predicted)  # (N, D)
    bins = np.concatenate(pred_bins)  # (N, D)
    tok.reset_clip_counts()
    true_bins = tok.encode(recorded)  # (N, D)
    clipped = tok.clip_counts.copy()
    err = pred - recorded
    per_dim = {
        name: {
            "mae": float(np.abs(err[:, d]).mean()),
            "rmse": float(np.sqrt((err[:, d] ** 2).mean())),
            "bin_mae": float(np.abs(bins[:, d] - true_bins[:, d]).mean()),
            "token_accuracy": float((bins[:, d] == true_bins[:, d]).mean()),
            "bin_width": float(tok.bin_width()[d]),
            "recorded_outside_bounds": int(clipped[d]),
        }
        for d, name in enumerate(space.names)
    }
    report: dict[str, Any] = {
        "dataset": str(Path(root).resolve()),
        "episodes": episode_ids,
        "frames": len(recorded),
        "config": asdict(config),
        "action_names": list(space.names),
        "mae": float(np.abs(err).mean()),
        "bin_mae": float(np.abs(bins - true_bins).mean()),
        "token_accuracy": float((bins == true_bins).mean()),
        "token_accuracy_teacher_forced": float(sum(teacher) / len(recorded)),
        "per_dim": per_dim,
    }
    if mean_action is not None:
        base = np.abs(np.asarray(mean_action, dtype=np.float64)[None] - recorded)  # (N, D)
        report["mean_baseline_mae"] = float(base.mean())
        for d, name in enumerate(space.names):
            per_dim[name]["mean_baseline_mae"] = float(base[:, d].mean())
    report["_series"] = (pred, recorded, source.episode_of)
    return report


def plot_episodes(report: dict[str, Any], out: Path, count: int) -> list[Path]:
    """One PNG per episode (the first ``count``): each dim's predicted vs recorded actions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pred, recorded, episode_of = report["_series"]
    names = report["action_names"]
    paths = []
    for k, ep in enumerate(report["episodes"][:count]):
        rows = episode_of == k
        cols = min(3, len(names))
        fig, axes = plt.subplots(
            -(-len(names) // cols), cols, figsize=(4 * cols, 2.4 * -(-len(names) // cols)),
            squeeze=False,
        )  # fmt: skip
        for d, name in enumerate(names):
            ax = axes[d // cols][d % cols]
            ax.plot(recorded[rows, d], label="recorded", color="black")
            ax.plot(pred[rows, d], label="predicted", color="tab:orange", linestyle="--")
            ax.set_title(name, fontsize=9)
        for d in range(len(names), axes.size):
            axes[d // cols][d % cols].axis("off")
        axes[0][0].legend(fontsize=8)
        fig.suptitle(f"episode {ep}: predicted vs recorded actions")
        fig.tight_layout()
        path = out / f"episode_{ep:04d}.png"
        out.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def write_offline_report(report: dict[str, Any], out: str | Path, meta: dict[str, Any]) -> Path:
    """``report.json``, ``report.md`` and ``plots/episode_*.png`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plots = plot_episodes(report, out / "plots", report["config"]["plots"])
    data = {k: v for k, v in report.items() if not k.startswith("_")}
    data["plots"] = [str(p.relative_to(out)) for p in plots]
    data["meta"] = meta
    (out / "report.json").write_text(json.dumps(data, indent=2))
    lines = [
        f"# Offline evaluation: {meta.get('policy', '')}",
        "",
        f"Dataset `{data['dataset']}`, episodes {data['episodes']} ({data['frames']} frames).",
        "",
        f"- action MAE {data['mae']:.4g} (physical units, all dims)"
        + (
            f"; predicting the training mean: {data['mean_baseline_mae']:.4g}"
            if "mean_baseline_mae" in data
            else ""
        ),
        f"- bin MAE {data['bin_mae']:.3g}; token accuracy {100 * data['token_accuracy']:.1f}% "
        f"(greedy), {100 * data['token_accuracy_teacher_forced']:.1f}% (teacher forced)",
        "",
        "| dim | MAE | RMSE | mean baseline MAE | bin MAE | token acc | bin width |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, d in data["per_dim"].items():
        base = f"{d['mean_baseline_mae']:.4g}" if "mean_baseline_mae" in d else "-"
        lines.append(
            f"| {name} | {d['mae']:.4g} | {d['rmse']:.4g} | {base} | {d['bin_mae']:.3g} | "
            f"{100 * d['token_accuracy']:.1f}% | {d['bin_width']:.3g} |"
        )
    lines += ["", *[f"![{p}]({p})" for p in data["plots"]], ""]
    (out / "report.md").write_text("\n".join(lines))
    return out / "report.md"
