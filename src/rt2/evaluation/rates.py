"""Success rates with Wilson 95% intervals: :class:`Rate`, the one way a report counts,
formats (:func:`cell`) and serializes a rate.

Reports on disk keep their keys (``n``, ``successes``, ``success_rate``, ``ci95_low``,
``ci95_high``, and ``mean_steps`` / ``chance`` where known): :meth:`Rate.to_dict` writes them and
:func:`jsonable` turns a structure holding rates into plain JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rt2.evaluation.runner import EpisodeRecord

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` trials (``(0, 1)`` when n == 0).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at 0% and 100%.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    """Successes out of n with a Wilson 95% interval: the one rate type of the reports
    (success, referent accuracy, multiple-choice accuracy). ``mean_steps``: the episodes' mean
    length, where the rate counts episodes; ``chance``: what a uniform pick among the
    candidates gets, averaged over the n trials, where there is one."""

    n: int
    successes: int
    mean_steps: float | None = None
    chance: float | None = None

    @classmethod
    def of(cls, records: Sequence[EpisodeRecord]) -> Rate:
        """The success rate of episode ``records``, with their mean length."""
        return cls(
            n=len(records),
            successes=sum(r.success for r in records),
            mean_steps=sum(r.steps for r in records) / max(len(records), 1),
        )

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def ci95(self) -> tuple[float, float]:
        """The Wilson 95% interval (low, high)."""
        return wilson_interval(self.successes, self.n)

    @property
    def low(self) -> float:
        return self.ci95[0]

    @property
    def high(self) -> float:
        return self.ci95[1]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form reports have always written."""
        lo, hi = self.ci95
        out: dict[str, Any] = {
            "n": self.n,
            "successes": self.successes,
            "success_rate": self.rate,
            "ci95_low": lo,
            "ci95_high": hi,
        }
        if self.mean_steps is not None:
            out["mean_steps"] = self.mean_steps
        if self.chance is not None:
            out["chance"] = self.chance
        return out


def cell(rate: Rate | None, digits: int = 0, percent: bool = False) -> str:
    """``"14 [9, 22]"``: success % with its Wilson 95% interval (``digits`` decimals, a ``%``
    after the rate with ``percent``); ``-`` for no rate or no trials."""
    if rate is None or not rate.n:
        return "-"
    lo, hi = rate.ci95
    sign = "%" if percent else ""
    return f"{100 * rate.rate:.{digits}f}{sign} [{100 * lo:.{digits}f}, {100 * hi:.{digits}f}]"


def jsonable(value: Any) -> Any:
    """``value`` with every :class:`Rate` (and object with ``to_dict``) in dicts, lists and
    tuples replaced by its JSON form."""
    if isinstance(value, Rate) or hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
