"""A config spelled out (``rt2 train --show``): every field, the backbone's options resolved to
their dataclass, and what differs from the defaults."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from rt2.training.config import TrainConfig


def resolved_dict(config: TrainConfig) -> dict[str, Any]:
    """``config.to_dict()`` with ``model.backbone_options`` holding every option of the
    backbone's dataclass (given or default); unchecked plugin options as given."""
    out = config.to_dict()
    typed = config.model.backbone_config()
    if typed is not None:
        out["model"]["backbone_options"] = dataclasses.asdict(typed)
    return out


def _defaults(cls: type) -> dict[str, Any]:
    """A dataclass's field defaults, without building it (some need a value, e.g. HFConfig)."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict) and prefix.count(".") < 2:  # the config, then its sections
        for k, v in value.items():
            _flatten(v, f"{prefix}{k}.", out)
    else:
        out[prefix.rstrip(".")] = list(value) if isinstance(value, tuple) else value
    return out


def differences(config: TrainConfig) -> list[tuple[str, Any, Any]]:
    """``(dotted key, default, value)`` of each field that differs from ``TrainConfig()``;
    backbone options compare with their dataclass's defaults, one row per option."""
    default = TrainConfig()
    ours = _flatten(config.to_dict(), "", {})
    base = _flatten(default.to_dict(), "", {})
    rows = [
        (k, base.get(k), v)
        for k, v in ours.items()
        if k != "model.backbone_options" and base.get(k) != v
    ]
    typed = config.model.backbone_config()
    if typed is None:
        given, defaults = config.model.backbone_options, {}
    else:
        given, defaults = dataclasses.asdict(typed), _defaults(type(typed))
    for k, v in given.items():
        d = defaults.get(k)
        if (list(d) if isinstance(d, tuple) else d) != (list(v) if isinstance(v, tuple) else v):
            rows.append((f"model.backbone_options.{k}", d, v))
    return rows


def changed_fields(given: TrainConfig, saved: TrainConfig) -> list[str]:
    """``"key: saved -> given"`` for each dotted field where two configs differ (what
    ``--resume`` keeps from the saved run instead of the command line)."""
    ours, theirs = _flatten(given.to_dict(), "", {}), _flatten(saved.to_dict(), "", {})
    return [
        f"{k}: {json.dumps(theirs.get(k))} -> {json.dumps(v)}"
        for k, v in ours.items()
        if theirs.get(k) != v
    ]


def show(config: TrainConfig) -> str:
    """The resolved config as JSON, then one ``key: default -> value`` line per difference."""
    lines = [json.dumps(resolved_dict(config), indent=2, default=list), ""]
    rows = differences(config)
    lines.append(f"{len(rows)} field(s) differ from the defaults:" if rows else "= the defaults")
    lines += [
        f"  {k}: {json.dumps(d, default=list)} -> {json.dumps(v, default=list)}" for k, d, v in rows
    ]
    return "\n".join(lines)
