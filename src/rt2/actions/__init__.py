"""Action spaces, statistics, the action tokenizer, token mappings and the action grammar."""

from rt2.actions.grammar import ActionGrammar
from rt2.actions.mapping import (
    IntegerMapping,
    ReservedMapping,
    TextTokenizer,
    TokenMapping,
    build_mapping,
    mapping_from_dict,
)
from rt2.actions.space import ActionDim, ActionSpace, DimKind
from rt2.actions.stats import compute_stats
from rt2.actions.tokenizer import ActionParseError, ActionTokenizer

__all__ = [
    "ActionDim",
    "ActionGrammar",
    "ActionParseError",
    "ActionSpace",
    "ActionTokenizer",
    "DimKind",
    "IntegerMapping",
    "ReservedMapping",
    "TextTokenizer",
    "TokenMapping",
    "build_mapping",
    "compute_stats",
    "mapping_from_dict",
]
