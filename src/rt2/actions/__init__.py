"""Action spaces, statistics, the action tokenizer and its token mappings."""

from rt2.actions.space import ActionDim, ActionSpace, DimKind
from rt2.actions.stats import compute_stats

__all__ = ["ActionDim", "ActionSpace", "DimKind", "compute_stats"]
