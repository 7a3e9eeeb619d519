"""Adapter from a Hugging Face tokenizer to rt2's :class:`~rt2.actions.mapping.TextTokenizer`.

rt2 needs distinct ``bos``/``eos``/``pad`` ids (decoding bans ``pad``/``bos`` in free text, so a
``pad`` equal to ``eos`` would forbid ending an answer). When the HF tokenizer reuses ``eos`` as
``pad`` (SmolLM2, Llama), another special token that is neither is used as ``pad``.
``vocab_size`` is the model's output size, which may exceed ``len(tokenizer)`` (padded
embeddings); ids the tokenizer does not know decode to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class HFTextTokenizer:
    """Wraps a ``transformers`` tokenizer; ``encode`` adds no special tokens."""

    def __init__(
        self,
        tokenizer: Any,
        vocab_size: int | None = None,
        *,
        bos_id: int | None = None,
        eos_id: int | None = None,
        pad_id: int | None = None,
    ) -> None:
        self.hf = tokenizer
        n = len(tokenizer)
        self.vocab_size = int(vocab_size if vocab_size is not None else n)
        if self.vocab_size < n:
            raise ValueError(
                f"vocab_size {self.vocab_size} is smaller than the tokenizer's {n} tokens"
            )
        self._known = n
        specials = [int(i) for i in tokenizer.all_special_ids]
        added = [
            int(i)
            for i, tok in getattr(tokenizer, "added_tokens_decoder", {}).items()
            if getattr(tok, "special", False)
        ]
        self._special = frozenset(specials + added)
        eos = eos_id if eos_id is not None else tokenizer.eos_token_id
        if eos is None:
            raise ValueError("the tokenizer has no eos token; pass eos_id")
        bos = bos_id if bos_id is not None else tokenizer.bos_token_id
        if bos is None or bos == eos:
            bos = self._spare(exclude={eos}, prefer=tokenizer.cls_token_id)
        pad = pad_id if pad_id is not None else tokenizer.pad_token_id
        if pad is None or pad in (eos, bos):
            pad = self._spare(exclude={eos, bos}, prefer=tokenizer.unk_token_id)
        self.bos_id, self.eos_id, self.pad_id = int(bos), int(eos), int(pad)
        if len({self.bos_id, self.eos_id, self.pad_id}) != 3:
            raise ValueError(
                f"bos/eos/pad ids must differ, got {self.bos_id}/{self.eos_id}/{self.pad_id}"
            )

    def _spare(self, exclude: set[int], prefer: int | None) -> int:
        """A special id not in ``exclude`` (``prefer`` first, then the smallest)."""
        if prefer is not None and prefer not in exclude:
            return int(prefer)
        for i in sorted(self._special):
            if i not in exclude:
                return i
        raise ValueError("the tokenizer has no spare special token to use as bos/pad")

    @property
    def special_ids(self) -> frozenset[int]:
        return self._special | {self.bos_id, self.eos_id, self.pad_id}

    def encode(self, text: str) -> list[int]:
        return list(self.hf.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        known = [int(t) for t in ids if 0 <= int(t) < self._known]
        return self.hf.decode(known, skip_special_tokens=True)

    def __len__(self) -> int:
        return self.vocab_size
