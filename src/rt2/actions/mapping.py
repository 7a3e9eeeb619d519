"""Token mappings: how action bins become ids of the backbone's text tokenizer.

* ``integers`` (PaLI-X style): bin ``k`` is the text ``" k"``, tokenised by the backbone; cost
  depends on the tokenizer (SmolLM2 splits digits: 23 tokens for an ``rt2`` action).
* ``reserved`` (PaLM-E style): bin ``k`` of every dimension is one token, taken from a declared
  set of 256 rarely used ids (least frequent over a corpus, or given explicitly). The set is
  saved with the model so the action-id range is never ambiguous.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any, Protocol

import numpy as np


class TextTokenizer(Protocol):
    """The slice of a text tokenizer rt2 needs (no special tokens added by ``encode``)."""

    vocab_size: int
    bos_id: int
    eos_id: int
    pad_id: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    @property
    def special_ids(self) -> frozenset[int]: ...


class TokenMapping(ABC):
    """A code book: for dimension ``d`` and bin ``k``, the token ids that write it."""

    name: str

    def __init__(self, num_values: Sequence[int]) -> None:
        self.num_values = tuple(int(n) for n in num_values)  # valid bins per dimension

    @abstractmethod
    def value_ids(self, dim: int, value: int) -> tuple[int, ...]:
        """Token ids writing bin ``value`` of dimension ``dim`` (incl. any separator)."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-able spec, saved with a checkpoint."""

    def bins_to_ids(self, bins: Sequence[int]) -> list[int]:
        """Bins (D,) -> the answer's token ids (without EOS)."""
        if len(bins) != len(self.num_values):
            raise ValueError(f"expected {len(self.num_values)} bins, got {len(bins)}")
        ids: list[int] = []
        for d, k in enumerate(bins):
            ids.extend(self.value_ids(d, int(k)))
        return ids

    def ids_to_bins(self, ids: Sequence[int]) -> np.ndarray:
        """Token ids -> bins (D,); raises ``ValueError`` if ids are not a valid action."""
        return self.grammar.parse(ids)

    @cached_property
    def grammar(self):  # -> ActionGrammar (import here: grammar builds on mappings)
        from rt2.actions.grammar import ActionGrammar

        return ActionGrammar(self)

    def tokens_per_action(self, bins: Sequence[int]) -> int:
        return len(self.bins_to_ids(bins))

    @cached_property
    def action_token_ids(self) -> frozenset[int]:
        """Every token id that can appear inside an action."""
        return frozenset(
            t for d, n in enumerate(self.num_values) for k in range(n) for t in self.value_ids(d, k)
        )


class IntegerMapping(TokenMapping):
    """PaLI-X style: bin ``k`` is written as the text ``" k"`` in the backbone's own tokens."""

    name = "integers"

    def __init__(self, tokenizer: TextTokenizer, num_values: Sequence[int]) -> None:
        super().__init__(num_values)
        width = max(self.num_values)
        self._codes = [tuple(tokenizer.encode(f" {k}")) for k in range(width)]
        for k, code in enumerate(self._codes):
            if not code:
                raise ValueError(f"tokenizer wrote the integer {k} with no tokens")

    def value_ids(self, dim: int, value: int) -> tuple[int, ...]:
        if not 0 <= value < self.num_values[dim]:
            raise ValueError(
                f"bin {value} out of range 0..{self.num_values[dim] - 1} for dim {dim}"
            )
        return self._codes[value]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "num_values": list(self.num_values)}


class ReservedMapping(TokenMapping):
    """PaLM-E style: bin ``k`` (any dimension) is the single token ``token_ids[k]``."""

    name = "reserved"

    def __init__(
        self, token_ids: Sequence[int], num_values: Sequence[int], vocab_size: int
    ) -> None:
        super().__init__(num_values)
        ids = [int(t) for t in token_ids]
        need = max(self.num_values)
        if len(ids) < need:
            raise ValueError(f"reserved mapping needs {need} token ids, got {len(ids)}")
        if len(set(ids)) != len(ids):
            raise ValueError("reserved token ids must be distinct")
        bad = [t for t in ids if not 0 <= t < vocab_size]
        if bad:
            raise ValueError(
                f"reserved token ids {bad[:5]} are outside the vocabulary 0..{vocab_size - 1}"
            )
        self.token_ids = tuple(ids[:need])
        self.vocab_size = vocab_size

    @classmethod
    def least_used(
        cls,
        tokenizer: TextTokenizer,
        corpus: Iterable[str],
        num_values: Sequence[int],
        exclude: Iterable[int] = (),
    ) -> ReservedMapping:
        """Pick the least frequent ids over ``corpus`` (ties: highest id first, like OpenVLA)."""
        counts: Counter[int] = Counter()
        for text in corpus:
            counts.update(tokenizer.encode(text))
        banned = set(tokenizer.special_ids) | set(exclude)
        candidates = [t for t in range(tokenizer.vocab_size) if t not in banned]
        candidates.sort(key=lambda t: (counts[t], -t))
        chosen = sorted(candidates[: max(num_values)])
        return cls(chosen, num_values, tokenizer.vocab_size)

    def value_ids(self, dim: int, value: int) -> tuple[int, ...]:
        if not 0 <= value < self.num_values[dim]:
            raise ValueError(
                f"bin {value} out of range 0..{self.num_values[dim] - 1} for dim {dim}"
            )
        return (self.token_ids[value],)

    @property
    def id_range(self) -> tuple[int, int]:
        """Smallest and largest declared action-token id (the set need not be contiguous)."""
        return min(self.token_ids), max(self.token_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "num_values": list(self.num_values),
            "vocab_size": self.vocab_size,
            "id_range": list(self.id_range),
            "token_ids": list(self.token_ids),
        }


MAPPINGS = ("integers", "reserved")


def build_mapping(
    name: str,
    tokenizer: TextTokenizer,
    num_values: Sequence[int],
    *,
    corpus: Iterable[str] | None = None,
    token_ids: Sequence[int] | None = None,
) -> TokenMapping:
    """Build a mapping by name; ``reserved`` takes explicit ``token_ids`` or a ``corpus``."""
    if name == "integers":
        return IntegerMapping(tokenizer, num_values)
    if name == "reserved":
        if token_ids is not None:
            return ReservedMapping(token_ids, num_values, tokenizer.vocab_size)
        return ReservedMapping.least_used(tokenizer, corpus or (), num_values)
    raise KeyError(f"unknown token mapping {name!r}; known: {list(MAPPINGS)}")


def mapping_from_dict(data: dict[str, Any], tokenizer: TextTokenizer) -> TokenMapping:
    """Rebuild a mapping saved with :meth:`TokenMapping.to_dict`."""
    if data["name"] == "reserved" and data["vocab_size"] != tokenizer.vocab_size:
        raise ValueError(
            f"saved reserved mapping is for a vocabulary of {data['vocab_size']}, tokenizer has "
            f"{tokenizer.vocab_size}"
        )
    return build_mapping(
        data["name"], tokenizer, data["num_values"], token_ids=data.get("token_ids")
    )
