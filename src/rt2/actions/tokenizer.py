"""Discretise continuous actions into bins and write them as text, like RT-2.

Each continuous (or gripper) dimension is split into ``num_bins`` uniform bins over its bounds;
the terminate flag has 2 values and a ``mode`` dimension ``num_values``. An action is written as
space-separated integers, terminate first for the ``rt2`` preset: ``"1 128 91 241 5 101 127 255"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rt2.actions.space import ActionSpace, DimKind


class ActionParseError(ValueError):
    """An action string that is not a valid action for the tokenizer's space."""


class ActionTokenizer:
    """Maps actions (..., D) <-> integer bins (..., D) <-> action strings.

    Out-of-range values are clipped to the nearest bin and counted in :attr:`clip_counts`
    (per dimension), so users can see when bounds do not fit their data.
    """

    def __init__(self, space: ActionSpace, num_bins: int = 256) -> None:
        if num_bins < 2:
            raise ValueError(f"num_bins must be >= 2, got {num_bins}")
        self.space = space
        self.num_bins = int(num_bins)
        self._low, self._high = space.low, space.high
        self._width = (self._high - self._low) / self.num_bins  # (D,) used by continuous dims
        kinds = space.kinds
        self._binary = np.array([k == DimKind.TERMINATE for k in kinds])
        self._mode = np.array([k == DimKind.MODE for k in kinds])
        self._continuous = ~(self._binary | self._mode)
        self.num_values = np.array(
            [
                2
                if k == DimKind.TERMINATE
                else d.num_values
                if k == DimKind.MODE
                else self.num_bins
                for d, k in zip(space.dims, kinds, strict=True)
            ],
            dtype=np.int64,
        )  # (D,) number of valid bins per dimension
        self.clip_counts = np.zeros(space.size, dtype=np.int64)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_stats(
        cls, space: ActionSpace, stats: dict[str, Any], num_bins: int = 256
    ) -> ActionTokenizer:
        """Bounds from dataset statistics: the 1st/99th percentiles (as in OpenVLA)."""
        return cls(space.with_stats(stats), num_bins=num_bins)

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space.to_dict(), "num_bins": self.num_bins}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionTokenizer:
        return cls(ActionSpace.from_dict(data["space"]), num_bins=int(data["num_bins"]))

    @property
    def dim(self) -> int:
        return self.space.size

    def bin_width(self) -> np.ndarray:
        """(D,) width of one bin in action units (1 for discrete dims)."""
        return np.where(self._continuous, self._width, 1.0)

    def reset_clip_counts(self) -> None:
        self.clip_counts[:] = 0

    # ---- numbers <-> bins ---------------------------------------------------------------
    def encode(self, actions: np.ndarray) -> np.ndarray:
        """Actions (..., D) float -> bins (..., D) int64; clips and counts out-of-range values."""
        a = self.space.validate(actions)
        out_of_range = (a < self._low) | (a > self._high)  # (..., D)
        self.clip_counts += out_of_range.reshape(-1, self.dim).sum(axis=0)
        a = np.clip(a, self._low, self._high)
        cont = np.floor((a - self._low) / self._width).astype(np.int64)
        binary = (a >= 0.5).astype(np.int64)
        mode = np.rint(a).astype(np.int64)
        bins = np.where(self._continuous, cont, np.where(self._binary, binary, mode))
        return np.clip(bins, 0, self.num_values - 1)

    def decode(self, bins: np.ndarray) -> np.ndarray:
        """Bins (..., D) int -> actions (..., D) float64 at bin centres."""
        b = self.check_bins(bins)
        centres = self._low + (b + 0.5) * self._width
        return np.where(self._continuous, centres, b.astype(np.float64))

    def check_bins(self, bins: np.ndarray | Sequence[int]) -> np.ndarray:
        """Validate bins (..., D): integer, in range per dimension; return as int64."""
        b = np.asarray(bins)
        if b.ndim == 0 or b.shape[-1] != self.dim:
            raise ValueError(f"expected bins of shape (..., {self.dim}), got {b.shape}")
        if b.size and not np.issubdtype(b.dtype, np.integer) and not np.all(np.mod(b, 1) == 0):
            raise ValueError("bins must be integers")
        b = b.astype(np.int64)
        bad = (b < 0) | (b >= self.num_values)
        if np.any(bad):
            d = int(np.argwhere(bad)[0][-1])
            raise ValueError(
                f"bin {int(b[..., d].reshape(-1)[0])} out of range for dimension "
                f"{self.space.names[d]!r} (valid 0..{self.num_values[d] - 1})"
            )
        return b

    # ---- bins <-> text ------------------------------------------------------------------
    def format(self, bins: np.ndarray | Sequence[int]) -> str:
        """Bins (D,) -> ``"1 128 91 241 5 101 127 255"``."""
        b = self.check_bins(bins)
        if b.ndim != 1:
            raise ValueError(f"format takes one action (D,), got shape {b.shape}")
        return " ".join(str(int(v)) for v in b)

    def parse(self, text: str) -> np.ndarray:
        """``"1 128 91 ..."`` -> bins (D,) int64; raises :class:`ActionParseError` naming the problem."""
        if not isinstance(text, str):
            raise ActionParseError(f"action text must be a str, got {type(text).__name__}")
        parts = text.split()
        if len(parts) != self.dim:
            raise ActionParseError(
                f"expected {self.dim} values ({' '.join(self.space.names)}), got {len(parts)} "
                f"in {text!r}"
            )
        values = []
        for i, (part, name) in enumerate(zip(parts, self.space.names, strict=True)):
            if not part.isdigit() or not part.isascii():
                raise ActionParseError(
                    f"value {i} ({name}) is {part!r}, not a non-negative integer, in {text!r}"
                )
            v = int(part)
            if v >= self.num_values[i]:
                raise ActionParseError(
                    f"value {i} ({name}) is {v}, outside 0..{self.num_values[i] - 1}, in {text!r}"
                )
            values.append(v)
        return np.array(values, dtype=np.int64)
