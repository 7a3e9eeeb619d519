"""Grounded plans: privileged positions written as text, for embodied chain-of-thought.

ECoT (Zawalski et al. 2024) trains a VLA to write what it sees and plans, with pixel coordinates,
before its action tokens; the intermediate text turns "act" into "find, then act". Here the plan
is the expert's own state (``observation.environment_state``): where the effector, the named
object and its push target are, each as two integers on a ``bins`` x ``bins`` grid over the table.

>>> fmt = PlanFormat(bins=32)
>>> fmt.text(np.array([0.0, 0.0, -1.0, 1.0, 0.5, -0.5]))
'arm 16 16, block 0 31, goal 24 8'
>>> fmt.parse("arm 16 16, block 0 31, goal 24 8").round(3).tolist()
[0.031, 0.031, -0.969, 0.969, 0.531, -0.469]

With ``code="letters"`` each coordinate is one of 32 symbols (``A``..``Z``, ``a``..``f``), one
token each for SmolLM2's tokenizer, as PaliGemma writes locations with one token per coordinate:
a plan costs 16 tokens instead of 26, and each coordinate is one 32-way choice.

>>> PlanFormat(bins=32, code="letters").text(np.array([0.0, 0.0, -1.0, 1.0, 0.5, -0.5]))
'arm Q Q, block A f, goal Y I'

With ``relative=True`` each label after the first is written as its offset from the one before
it (the block from the arm, the goal from the block), clipped to half the grid and shifted by
it: the direction to push is then in the tokens themselves instead of a difference of two
tokens the reader must learn for every pair (a small transformer learns the actions from
relative plans 2-3x faster: notes/rt2-mini-v2.md section 8). Offsets past half the table
saturate; acting needs only their direction there.

>>> rel = PlanFormat(bins=32, code="letters", relative=True)
>>> rel.text(np.array([0.0, 0.0, 0.2, -0.1, 0.5, -0.5]))
'arm Q Q, block T O, goal V K'
>>> rel.parse('arm Q Q, block T O, goal V K').round(3).tolist()
[0.031, 0.031, 0.219, -0.094, 0.531, -0.469]
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Literal

import numpy as np

#: The ``letters`` code's symbols: cell k is written ``LETTERS[k]``.
LETTERS = string.ascii_uppercase + "abcdef"
CODES = ("digits", "letters")


@dataclass(frozen=True)
class PlanFormat:
    """Plan text from a (2K,) state in table half-extents ([-1, 1] per axis)."""

    bins: int = 32
    labels: tuple[str, ...] = ("arm", "block", "goal")
    code: Literal["digits", "letters"] = "digits"  # how a cell is written: "12" or "M"
    relative: bool = False  # labels after the first as offsets from the one before

    def __post_init__(self) -> None:
        if not 2 <= self.bins <= 1000:
            raise ValueError(f"PlanFormat.bins: expected 2..1000, got {self.bins}")
        if self.code not in CODES:
            raise ValueError(f"PlanFormat.code: expected one of {CODES}, got {self.code!r}")
        if self.code == "letters" and self.bins > len(LETTERS):
            raise ValueError(
                f"PlanFormat.bins: the letters code writes at most {len(LETTERS)} cells per "
                f"axis, got {self.bins}"
            )
        if not self.labels or any(not re.fullmatch(r"[a-z]+", w) for w in self.labels):
            raise ValueError(f"PlanFormat.labels: expected lowercase words, got {self.labels}")

    @property
    def dim(self) -> int:
        return 2 * len(self.labels)

    def cells(self, state: np.ndarray) -> np.ndarray:
        """(2K,) state -> (2K,) integer grid cells in [0, bins)."""
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self.dim,):
            raise ValueError(f"plan state: expected shape ({self.dim},), got {state.shape}")
        return self._grid(state)

    def point(self, xy: np.ndarray) -> str:
        """One (2,) position -> ``"12 7"``, its cell as pointing answers write it."""
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape != (2,):
            raise ValueError(f"point: expected shape (2,), got {xy.shape}")
        x, y = self._grid(xy)
        return f"{self._cell(x)} {self._cell(y)}"

    def _cell(self, k: int) -> str:
        return LETTERS[k] if self.code == "letters" else str(k)

    def _grid(self, v: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((v + 1.0) / 2.0 * self.bins), 0, self.bins - 1).astype(int)

    def _value(self, cell: str) -> int:
        return LETTERS.index(cell) if self.code == "letters" else int(cell)

    def parse_point(self, text: str) -> tuple[int, int] | None:
        """A pointing answer (``"12 7"``, ``"M H"``) -> its (x, y) cells; None if it is not one."""
        cell = r"(\d+)" if self.code == "digits" else f"([{LETTERS}])"
        m = re.fullmatch(rf"\s*{cell} {cell}\s*\.?\s*", text)
        if m is None:
            return None
        x, y = self._value(m.group(1)), self._value(m.group(2))
        return (x, y) if max(x, y) < self.bins else None

    def text(self, state: np.ndarray) -> str:
        """``"arm 16 16, block 0 31, goal 24 8"``."""
        c = self.cells(state)
        if self.relative:
            half = self.bins // 2
            c[2:] = np.clip(c[2:] - c[:-2], -half, half - 1) + half
        return ", ".join(
            f"{w} {self._cell(c[2 * k])} {self._cell(c[2 * k + 1])}"
            for k, w in enumerate(self.labels)
        )

    def parse(self, text: str) -> np.ndarray | None:
        """Plan text -> (2K,) cell centres in [-1, 1]; None if any label or number is missing."""
        out = np.empty(self.dim)
        cell = r"(\d+)" if self.code == "digits" else f"([{LETTERS}])"
        for k, w in enumerate(self.labels):
            m = re.search(rf"\b{w} {cell} {cell}\b", text)
            if m is None:
                return None
            out[2 * k : 2 * k + 2] = [self._value(m.group(1)), self._value(m.group(2))]
        if (out >= self.bins).any():
            return None
        if self.relative:  # offsets back to cells, label by label
            out[2:] -= self.bins // 2
            out = np.clip(np.cumsum(out.reshape(-1, 2), axis=0).reshape(-1), 0, self.bins - 1)
        return (out + 0.5) / self.bins * 2.0 - 1.0
