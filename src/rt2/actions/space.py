"""Action spaces: named dimensions with bounds and kinds, and the presets of the papers."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np


class DimKind(StrEnum):
    """How a dimension is discretised.

    ``terminate``: binary episode-end flag (bins 0/1). ``continuous``: uniform bins over
    ``[low, high]``. ``gripper``: like continuous (RT-2 bins the gripper extension too) but
    named separately so transforms can treat it specially. ``mode``: a categorical switch with
    ``num_values`` classes (RT-1's arm/base/terminate mode).
    """

    TERMINATE = "terminate"
    CONTINUOUS = "continuous"
    GRIPPER = "gripper"
    MODE = "mode"


@dataclass(frozen=True)
class ActionDim:
    """One named action dimension."""

    name: str
    kind: DimKind = DimKind.CONTINUOUS
    low: float = -1.0
    high: float = 1.0
    num_values: int = 0  # only for kind == "mode"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DimKind(self.kind))
        if not self.name:
            raise ValueError("ActionDim.name must be a non-empty string")
        finite = np.isfinite(self.low) and np.isfinite(self.high)
        if self.kind in (DimKind.CONTINUOUS, DimKind.GRIPPER) and not (
            finite and self.low < self.high
        ):
            raise ValueError(
                f"ActionDim {self.name!r}: need finite low < high, got low={self.low}, "
                f"high={self.high}"
            )
        if self.kind == DimKind.TERMINATE:
            object.__setattr__(self, "low", 0.0)
            object.__setattr__(self, "high", 1.0)
        if self.kind == DimKind.MODE:
            if self.num_values < 2:
                raise ValueError(
                    f"ActionDim {self.name!r}: kind 'mode' needs num_values >= 2, got {self.num_values}"
                )
            object.__setattr__(self, "low", 0.0)
            object.__setattr__(self, "high", float(self.num_values - 1))

    @property
    def is_discrete(self) -> bool:
        return self.kind in (DimKind.TERMINATE, DimKind.MODE)


@dataclass(frozen=True)
class ActionSpace:
    """An ordered tuple of named action dimensions.

    >>> space = ActionSpace.preset("rt2")
    >>> space.names[:3]
    ('terminate', 'dx', 'dy')
    """

    dims: tuple[ActionDim, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dims", tuple(self.dims))
        if not self.dims:
            raise ValueError("ActionSpace needs at least one dimension")
        names = [d.name for d in self.dims]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"ActionSpace {self.name!r}: duplicate dimension names {dupes}")

    # ---- views -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.dims)

    def __len__(self) -> int:
        return len(self.dims)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dims)

    @property
    def kinds(self) -> tuple[DimKind, ...]:
        return tuple(d.kind for d in self.dims)

    @property
    def low(self) -> np.ndarray:
        """(D,) lower bounds."""
        return np.array([d.low for d in self.dims], dtype=np.float64)

    @property
    def high(self) -> np.ndarray:
        """(D,) upper bounds."""
        return np.array([d.high for d in self.dims], dtype=np.float64)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(
                f"no action dimension {name!r} in {self.name!r}; dims: {self.names}"
            ) from None

    def validate(self, actions: np.ndarray) -> np.ndarray:
        """Check ``actions`` has shape (..., D) and finite values; return it as float64."""
        a = np.asarray(actions, dtype=np.float64)
        if a.ndim == 0 or a.shape[-1] != self.size:
            raise ValueError(
                f"action space {self.name!r} has {self.size} dims {self.names}, got an array "
                f"of shape {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"actions for {self.name!r} contain NaN or inf")
        return a

    # ---- construction ------------------------------------------------------------------
    def with_bounds(self, low: np.ndarray, high: np.ndarray) -> ActionSpace:
        """New space with continuous/gripper bounds replaced (discrete dims keep theirs)."""
        low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        if low.shape != (self.size,) or high.shape != (self.size,):
            raise ValueError(
                f"bounds must have shape ({self.size},), got low {low.shape}, high {high.shape}"
            )
        dims = []
        for d, lo, hi in zip(self.dims, low, high, strict=True):
            if d.is_discrete:
                dims.append(d)
                continue
            if hi <= lo:  # a constant dimension in the data: keep a tiny non-empty range
                lo, hi = lo - 1e-6, hi + 1e-6
            dims.append(replace(d, low=float(lo), high=float(hi)))
        return replace(self, dims=tuple(dims))

    def with_stats(
        self, stats: dict[str, Any], low_key: str = "q01", high_key: str = "q99"
    ) -> ActionSpace:
        """Bounds from dataset statistics (OpenVLA uses the 1st/99th percentiles)."""
        for key in (low_key, high_key):
            if key not in stats:
                raise KeyError(f"action stats lack {key!r}; have {sorted(stats)}")
        return self.with_bounds(np.asarray(stats[low_key]), np.asarray(stats[high_key]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dims": [
                {
                    "name": d.name,
                    "kind": str(d.kind),
                    "low": d.low,
                    "high": d.high,
                    "num_values": d.num_values,
                }
                for d in self.dims
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionSpace:
        return cls(
            dims=tuple(ActionDim(**d) for d in data["dims"]), name=data.get("name", "custom")
        )

    @classmethod
    def from_names(
        cls,
        names: Sequence[str],
        name: str = "dataset",
        gripper: str | Sequence[str] | None = None,
    ) -> ActionSpace:
        """Continuous dims named ``names`` (bounds -1..1 until :meth:`with_stats`). Gripper dims:
        those named in ``gripper`` ("none" for no gripper), else any whose name contains
        "gripper" (LeRobot's SO-100 writes ``gripper.pos``)."""
        names = [str(n) for n in names]
        if gripper is None:
            grippers = {n for n in names if "gripper" in n.lower()}
        else:
            declared = [gripper] if isinstance(gripper, str) else list(gripper)
            declared = [] if declared == ["none"] else declared
            unknown = [g for g in declared if g not in names]
            if unknown:
                raise ValueError(
                    f"action_space_options.gripper: {unknown} not among the action names {names}"
                )
            grippers = set(declared)
        dims = tuple(
            ActionDim(n, DimKind.GRIPPER if n in grippers else DimKind.CONTINUOUS) for n in names
        )
        return cls(dims=dims, name=name)

    @classmethod
    def preset(cls, name: str, **options: Any) -> ActionSpace:
        """A named preset: ``rt2``, ``rt1`` or ``language_table`` (``terminate=True`` optional)."""
        if name not in _PRESETS:
            close = difflib.get_close_matches(name, _PRESETS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"unknown action-space preset {name!r}; known: {sorted(_PRESETS)}{hint}")
        return _PRESETS[name](**options)


def _rt2(translation: float = 0.05, rotation: float = 0.25) -> ActionSpace:
    """RT-2: terminate + 6-DoF end-effector delta (m, rad per step) + gripper extension in [0, 1]."""
    t, r = translation, rotation
    return ActionSpace(
        name="rt2",
        dims=(
            ActionDim("terminate", DimKind.TERMINATE),
            ActionDim("dx", low=-t, high=t),
            ActionDim("dy", low=-t, high=t),
            ActionDim("dz", low=-t, high=t),
            ActionDim("droll", low=-r, high=r),
            ActionDim("dpitch", low=-r, high=r),
            ActionDim("dyaw", low=-r, high=r),
            ActionDim("gripper", DimKind.GRIPPER, low=0.0, high=1.0),
        ),
    )


def _rt1(translation: float = 0.05, rotation: float = 0.25, base: float = 0.1) -> ActionSpace:
    """RT-1: 7 arm dims (x y z roll pitch yaw gripper), 3 base dims (x y yaw), 1 mode switch.

    Mode values: 0 = control the arm, 1 = control the base, 2 = terminate the episode.
    """
    t, r = translation, rotation
    return ActionSpace(
        name="rt1",
        dims=(
            ActionDim("x", low=-t, high=t),
            ActionDim("y", low=-t, high=t),
            ActionDim("z", low=-t, high=t),
            ActionDim("roll", low=-r, high=r),
            ActionDim("pitch", low=-r, high=r),
            ActionDim("yaw", low=-r, high=r),
            ActionDim("gripper", DimKind.GRIPPER, low=0.0, high=1.0),
            ActionDim("base_x", low=-base, high=base),
            ActionDim("base_y", low=-base, high=base),
            ActionDim("base_yaw", low=-r, high=r),
            ActionDim("mode", DimKind.MODE, num_values=3),
        ),
    )


def _language_table(terminate: bool = False, max_delta: float = 0.05) -> ActionSpace:
    """Language-Table: a planar end-effector delta (dx, dy) in metres per 10 Hz step."""
    dims = [
        ActionDim("dx", low=-max_delta, high=max_delta),
        ActionDim("dy", low=-max_delta, high=max_delta),
    ]
    if terminate:
        dims.insert(0, ActionDim("terminate", DimKind.TERMINATE))
    return ActionSpace(name="language_table", dims=tuple(dims))


_PRESETS = {"rt2": _rt2, "rt1": _rt1, "language_table": _language_table}
