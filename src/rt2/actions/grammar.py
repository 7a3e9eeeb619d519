"""The action grammar: a state machine over token ids that accepts exactly the valid actions.

Built from a :class:`~rt2.actions.mapping.TokenMapping`: one trie per dimension over the token
sequences that write each bin, chained dimension after dimension, then EOS. Constrained decoding
asks :meth:`ActionGrammar.allowed` for the ids permitted in a state; :meth:`ActionGrammar.parse`
maps token ids back to bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from rt2.actions.mapping import TokenMapping

DONE = -1  # the accepting state after the final value (and EOS, when one is needed)


@dataclass
class _Node:
    dim: int
    value: int | None = None  # set when a complete bin ends here
    children: dict[int, int] = field(default_factory=dict)  # token id -> node index


class ActionGrammar:
    """Accepts ``value_ids(0, k0) + value_ids(1, k1) + ... + [eos]`` for valid bins ``k``.

    A state is a node index (an int); ``start`` is the root of dimension 0. EOS is required after
    the last value only when that value could still be extended (e.g. ``" 1"`` vs ``" 12"``).
    """

    def __init__(self, mapping: TokenMapping, eos_id: int | None = None) -> None:
        self.num_dims = len(mapping.num_values)
        self.eos_id = eos_id
        self.nodes: list[_Node] = []
        roots = []
        for d, n in enumerate(mapping.num_values):
            root = self._new(d)
            roots.append(root)
            for k in range(n):
                node = root
                for t in mapping.value_ids(d, k):
                    nxt = self.nodes[node].children.get(t)
                    if nxt is None:
                        nxt = self._new(d)
                        self.nodes[node].children[t] = nxt
                    node = nxt
                if self.nodes[node].value is not None:
                    raise ValueError(f"mapping writes two bins of dim {d} with the same tokens")
                self.nodes[node].value = k
        self.start = roots[0]
        # transitions: node -> {token: next node}; completing a value links to the next root
        self._next: list[dict[int, int]] = []
        for node in self.nodes:
            table = dict(node.children)
            if node.value is not None:
                if node.dim + 1 < self.num_dims:
                    follow = self.nodes[roots[node.dim + 1]].children
                else:  # EOS ends the action (optional after a leaf, see is_done)
                    follow = {eos_id: DONE} if eos_id is not None else {}
                clash = set(table) & set(follow)
                if clash:
                    raise ValueError(
                        f"ambiguous action grammar: after a complete value of dim {node.dim}, "
                        f"token(s) {sorted(clash)[:5]} both extend it and start what follows; "
                        "use a mapping with separators"
                    )
                table.update(follow)
            self._next.append(table)
        self._allowed = [torch.tensor(sorted(t), dtype=torch.long) for t in self._next]

    @property
    def max_length(self) -> int:
        """Longest token sequence the grammar accepts (including EOS)."""
        depth = [0] * len(self.nodes)
        for i in reversed(range(len(self.nodes))):  # children are created after their parents
            kids = self.nodes[i].children.values()
            depth[i] = 1 + max((depth[k] for k in kids), default=0)
        per_dim = [0] * self.num_dims
        for i, node in enumerate(self.nodes):
            per_dim[node.dim] = max(per_dim[node.dim], depth[i] - 1)
        return sum(per_dim) + (self.eos_id is not None)

    def _new(self, dim: int) -> int:
        self.nodes.append(_Node(dim))
        return len(self.nodes) - 1

    # ---- state machine ------------------------------------------------------------------
    def allowed(self, state: int) -> torch.Tensor:
        """(K,) token ids permitted in ``state`` (empty once done)."""
        if state == DONE:
            return torch.empty(0, dtype=torch.long)
        return self._allowed[state]

    def advance(self, state: int, token: int) -> int:
        """Next state after ``token``; raises ``ValueError`` if the token is not allowed."""
        if state == DONE:
            raise ValueError("action already complete")
        nxt = self._next[state].get(int(token))
        if nxt is None:
            raise ValueError(f"token {token} is not allowed in dimension {self.nodes[state].dim}")
        return nxt

    def is_done(self, state: int) -> bool:
        """True once the action is complete and nothing could extend it (EOS is optional)."""
        if state == DONE:
            return True
        node = self.nodes[state]
        return node.value is not None and node.dim == self.num_dims - 1 and not node.children

    def dim_of(self, state: int) -> int:
        return self.num_dims if state == DONE else self.nodes[state].dim

    # ---- parsing ------------------------------------------------------------------------
    def parse(self, ids: Sequence[int]) -> np.ndarray:
        """Token ids (optionally ending in EOS) -> bins (D,); errors name the offending token."""
        state, bins = self.start, []
        for i, t in enumerate(ids):
            if state == DONE:
                raise ValueError(f"extra token {t} at position {i} after a complete action")
            cur = self.nodes[state]
            try:
                nxt = self.advance(state, t)
            except ValueError as err:
                raise ValueError(f"invalid action tokens at position {i}: {err}") from None
            if cur.value is not None and (nxt == DONE or self.nodes[nxt].dim != cur.dim):
                bins.append(cur.value)
            state = nxt
        if state != DONE:
            node = self.nodes[state]
            if node.value is None or node.dim != self.num_dims - 1:
                n = len(bins) + (node.value is not None)
                raise ValueError(f"incomplete action: {n} of {self.num_dims} values in {list(ids)}")
            bins.append(node.value)
        return np.array(bins, dtype=np.int64)
