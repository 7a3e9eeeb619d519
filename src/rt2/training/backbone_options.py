"""The typed options of each backbone.

``ModelConfig.backbone_options`` stays a plain dict (what ``config.json`` stores and what
``model.backbone_options=k:v,...`` overrides write); this module checks it against one frozen
dataclass chosen by ``model.kind`` / ``model.backbone``: :class:`~rt2.backbones.tiny.TinyConfig`,
:class:`~rt2.backbones.hf.HFConfig`, :class:`~rt2.backbones.rt2_mini.RT2MiniConfig`, and for
``kind="rt1"`` :class:`~rt2.baselines.rt1.config.RT1Config`. An unknown option, a value of the
wrong type or one the dataclass rejects is a ``ValueError`` naming the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

WHERE = "model.backbone_options"
# backbone name -> (module, dataclass): imported on use (they import torch)
BUILTIN: dict[str, tuple[str, str]] = {
    "tiny": ("rt2.backbones.tiny", "TinyConfig"),
    "hf": ("rt2.backbones.hf", "HFConfig"),
    "rt2-mini": ("rt2.backbones.rt2_mini", "RT2MiniConfig"),
}


def options_class(kind: str, backbone: str) -> type | None:
    """The options dataclass of a model; None for a plugin backbone (registered with
    :func:`rt2.backbones.register_backbone`, options unchecked). Unknown names raise."""
    if kind == "rt1":
        from rt2.baselines.rt1.config import RT1Config

        return RT1Config
    if backbone in BUILTIN:
        module, name = BUILTIN[backbone]
        return getattr(importlib.import_module(module), name)
    from rt2.backbones import available_backbones

    if backbone in available_backbones():
        return None
    known = sorted(set(BUILTIN) | set(available_backbones()))
    raise ValueError(f"model.backbone: unknown backbone {backbone!r}; known: {known}")


def typed_options(kind: str, backbone: str, options: Mapping[str, Any], history: int = 0) -> Any:
    """``options`` as the backbone's frozen dataclass (None for an unchecked plugin backbone).
    RT-1's ``frames`` follows ``history + 1``; a ``frames`` option that disagrees raises."""
    cls = options_class(kind, backbone)
    if cls is None:
        return None
    values = dict(options)
    if kind == "rt1":
        frames = history + 1
        if "frames" in values and values["frames"] != frames:
            raise ValueError(
                f"{WHERE}.frames={values['frames']} disagrees with model.history={history} "
                "(frames = history + 1); set model.history instead"
            )
        values["frames"] = frames
    return build_options(cls, values)


def build_options(cls: type, values: Mapping[str, Any], where: str = WHERE) -> Any:
    """``cls(**values)`` after checking each name and each value's type against ``cls``."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    for name in values:
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{where}.{name}: unknown option of {cls.__name__}{hint} "
                f"(known: {', '.join(sorted(fields))})"
            )
    kwargs = {
        name: _checked(hints[name], value, f"{where}.{name}") for name, value in values.items()
    }
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{where}: {err}") from None


def _checked(hint: Any, value: Any, where: str) -> Any:
    """``value`` if it fits ``hint`` (a list for a tuple becomes a tuple), else a ValueError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _checked(arg, value, where)
            except ValueError as err:
                errors.append(str(err))
        raise ValueError(errors[0] if errors else f"{where}: expected {hint}, got {value!r}")
    if origin is Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return value
        raise ValueError(f"{where}: expected one of {list(args)}, got {value!r}")
    if origin is tuple:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ValueError(f"{where}: expected a list of strings, got {value!r}")
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }
    if hint in ok:
        if ok[hint](value):
            return value
        raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
