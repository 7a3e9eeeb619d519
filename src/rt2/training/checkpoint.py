"""Checkpoints: safetensors weights + resolved config + action-tokenizer spec + stats, atomically.

Layout of ``OUT/checkpoints/step-000500/``::

    model.safetensors    weights (frozen pretrained weights are left out: they reload from source)
    config.json          the resolved TrainConfig
    vla.json             action tokenizer (space, bins), token mapping (declared ids), prompt
    stats.json           normalisation stats of the training actions
    dataset.json         fingerprint of the robot dataset
    trainer_state.pt     optimizer state and step, for --resume

A checkpoint is written into a temporary directory (``.step-000500.<random>``) and renamed into
place, then ``latest`` is replaced atomically: an interrupt leaves the previous checkpoint intact
and never a partial one. A process killed mid-save (``kill -9``) cannot remove its temporary
directory; resuming and pruning do (:func:`remove_stale_temporaries`). Every file and directory of
a checkpoint gets the modes a plain ``mkdir`` / ``open`` gives under the umask (0755 / 0644).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from rt2.data import format as fmt
from rt2.weights import resolve

WEIGHTS = "model.safetensors"
LATEST = "latest"

log = logging.getLogger("rt2.checkpoint")

#: names of the temporaries a save writes in ``checkpoints/``: step folders and the pointer
_STEP = re.compile(r"^step-\d{6,}$")
_TEMPORARY = re.compile(r"^\.step-\d{6,}\.[A-Za-z0-9_]+$|^\.latest\.tmp$")


def _make_temporary_dir(parent: Path, prefix: str) -> Path:
    """A new directory ``parent/prefix<random>`` with the mode ``mkdir`` gives (mkdtemp's is 0700)."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free temporary name {prefix}* in {parent}")


def _finish_files(tmp: Path) -> None:
    """Give every file the directory's mode minus execute bits (safetensors writes 0600) and
    flush its contents before the rename makes it visible."""
    mode = tmp.stat().st_mode & 0o666
    for p in tmp.iterdir():
        os.chmod(p, mode)
        with open(p, "rb") as f:
            os.fsync(f.fileno())


def remove_stale_temporaries(checkpoints: str | Path) -> list[tuple[str, int]]:
    """Remove what interrupted saves left in a run's ``checkpoints/`` folder: temporary step
    folders (``.step-000080.<random>``) and the ``latest`` pointer's temporary. Nothing else is
    touched. Returns (name, bytes) of each removed entry."""
    root = Path(checkpoints)
    removed = []
    if not root.is_dir():
        return removed
    for p in sorted(root.iterdir()):
        if not _TEMPORARY.match(p.name) or p.is_symlink():
            continue
        if p.is_dir():
            size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            shutil.rmtree(p)
        elif p.is_file():
            size = p.stat().st_size
            p.unlink()
        else:
            continue
        removed.append((p.name, size))
    return removed


def describe_removed(root: str | Path, removed: list[tuple[str, int]]) -> str:
    """One line saying what :func:`remove_stale_temporaries` removed."""
    n = len(removed)
    size = sum(b for _, b in removed) / 1e6
    names = ", ".join(name for name, _ in removed)
    what = "temporary" if n == 1 else "temporaries"
    return f"removed {n} stale checkpoint {what} of an interrupted save in {root}: {names} ({size:.1f} MB)"


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def weights_to_save(model: nn.Module) -> dict[str, torch.Tensor]:
    """Parameters and buffers, deduplicated (tied weights saved once), minus frozen pretrained ones."""
    skip = set(getattr(model, "pretrained_parameter_names", lambda: set())())
    out = {}
    for name, p in model.named_parameters():  # named_parameters skips tied duplicates
        if p.requires_grad or name not in skip:
            out[name] = p.detach().cpu().contiguous()
    persistent = model.state_dict().keys()  # non-persistent buffers are rebuilt, not saved
    for name, b in model.named_buffers():
        if name in persistent and name not in skip:
            out[name] = b.detach().cpu().contiguous()
    return out


def save_checkpoint(
    out_dir: str | Path,
    step: int,
    model: nn.Module,
    files: dict[str, Any],
    trainer_state: dict[str, Any] | None = None,
    keep_last: int = 2,
    report: Callable[[str], None] | None = None,
) -> Path:
    """Write ``out_dir/checkpoints/step-{step:06d}`` atomically and point ``latest`` at it; then
    prune to the ``keep_last`` newest and remove stale temporaries, said through ``report``
    (default: a warning on the ``rt2.checkpoint`` logger)."""
    root = Path(out_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    tmp = _make_temporary_dir(root, f".step-{step:06d}.")
    try:
        save_file(weights_to_save(model), str(tmp / WEIGHTS))
        for name, data in files.items():
            _write_json(tmp / name, data)
        if trainer_state is not None:
            torch.save(trainer_state, tmp / "trainer_state.pt")
        _finish_files(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer = root / f".{LATEST}.tmp"
    pointer.write_text(final.name + "\n")
    os.replace(pointer, root / LATEST)
    _prune(root, keep_last, keep=final)
    if removed := remove_stale_temporaries(root):
        (report or log.warning)(describe_removed(root, removed))
    return final


EXPORTED = ("config.json", "vla.json", "stats.json", "dataset.json")


def export_checkpoint(
    ckpt: str | Path, out: str | Path, dtype: torch.dtype = torch.bfloat16
) -> Path:
    """Copy a checkpoint without its optimizer state, floating weights cast to ``dtype``.

    For shipping a trained model (``rt2 export``): bf16 halves the weights; loading casts them
    back to the model's dtype. ``out`` appears complete or not at all.
    """
    src = latest_checkpoint(ckpt)
    if src is None:
        raise FileNotFoundError(
            f"{ckpt} holds no checkpoint (expected {WEIGHTS} or checkpoints/latest)"
        )
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; export into a new directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _make_temporary_dir(out.parent, f".{out.name}.")
    try:
        state = load_file(str(src / WEIGHTS))
        cast = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
        save_file(cast, str(tmp / WEIGHTS))
        for name in EXPORTED:
            if (src / name).is_file():
                shutil.copy2(src / name, tmp / name)
        _write_json(tmp / "export.json", {"source": str(src), "step": _step_of(src)})
        _finish_files(tmp)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _step_of(ckpt: Path) -> int | None:
    """The training step a checkpoint was saved at (from its trainer state or name)."""
    if (ckpt / "export.json").is_file():
        return fmt.read_json(ckpt / "export.json").get("step")
    if ckpt.name.startswith("step-") and ckpt.name[5:].isdigit():
        return int(ckpt.name[5:])
    return None


def _prune(root: Path, keep_last: int, keep: Path) -> None:
    """Remove all but the ``keep_last`` newest ``step-NNNNNN`` folders (nothing else)."""
    steps = sorted(p for p in root.glob("step-*") if p.is_dir() and _STEP.match(p.name))
    for p in steps[:-keep_last]:
        if p != keep:
            shutil.rmtree(p, ignore_errors=True)


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint under ``out_dir`` (or ``out_dir`` itself if it is one);
    ``rt2:NAME`` names weights shipped in the package (:mod:`rt2.weights`)."""
    out_dir = resolve(out_dir)
    if (out_dir / WEIGHTS).is_file():
        return out_dir
    root = out_dir / "checkpoints"
    pointer = root / LATEST
    if pointer.is_file():
        path = root / pointer.read_text().strip()
        if (path / WEIGHTS).is_file():
            return path
    steps = sorted(p for p in root.glob("step-*") if (p / WEIGHTS).is_file())
    return steps[-1] if steps else None


def model_kind(ckpt: Path) -> str:
    """``model.kind`` of a checkpoint's resolved config ("vla" when it has no config.json)."""
    return fmt.read_json(Path(ckpt) / "config.json", {}).get("model", {}).get("kind", "vla")


def read_json(ckpt: Path, name: str) -> Any:
    """The checkpoint's JSON file ``name`` (FileNotFoundError naming the checkpoint if absent)."""
    path = Path(ckpt) / name
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {ckpt} has no {name}")
    return fmt.read_json(path)


def load_weights(
    model: nn.Module, ckpt: str | Path, strict: bool = True, fresh: tuple[str, ...] = ()
) -> None:
    """Load ``model.safetensors`` into ``model``; every missing key must be frozen-pretrained or
    tied, or start with a ``fresh`` prefix (parts this model starts anew, not loaded)."""
    path = Path(ckpt) / WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"{ckpt} is not a checkpoint: {WEIGHTS} is missing")
    state = {k: v for k, v in load_file(str(path)).items() if not (fresh and k.startswith(fresh))}
    own = model.state_dict()
    bad = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if bad:
        k = bad[0]
        raise ValueError(
            f"checkpoint {ckpt} does not fit this model: {k} has shape {tuple(state[k].shape)}, "
            f"model expects {tuple(own[k].shape)}"
        )
    result = model.load_state_dict(state, strict=False)
    if strict:
        unexpected = list(result.unexpected_keys)
        allowed = set(
            getattr(model, "pretrained_parameter_names", lambda: set())()
        ) | _tied_aliases(model)
        missing = [
            k
            for k in result.missing_keys
            if k not in allowed and not (fresh and k.startswith(fresh))
        ]
        if unexpected or missing:
            raise ValueError(
                f"checkpoint {ckpt} does not fit this model: missing {missing[:5]}, unexpected {unexpected[:5]}"
            )


def _tied_aliases(model: nn.Module) -> set[str]:
    """Names of parameters that are the same tensor as an earlier-named one (tied weights)."""
    seen: dict[int, str] = {}
    aliases = set()
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in seen:
            aliases.add(name)
        else:
            seen[id(p)] = name
    return aliases
