"""A UTF-8 byte tokenizer with spare ids, for backbones trained from scratch.

Ids: 0 ``<pad>``, 1 ``<bos>``, 2 ``<eos>``, 3..258 the 256 byte values, then ``num_extra`` spare
ids that no text produces (like the ``<unused*>`` tokens of many real vocabularies). Spare ids are
what the PaLM-E style ``reserved`` mapping picks: they are the least frequent ids of any corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PAD, BOS, EOS = 0, 1, 2
BYTE_OFFSET = 3


@dataclass(frozen=True)
class ByteTokenizer:
    num_extra: int = 256

    def __post_init__(self) -> None:
        if self.num_extra < 0:
            raise ValueError(f"num_extra must be >= 0, got {self.num_extra}")

    pad_id = PAD
    bos_id = BOS
    eos_id = EOS

    @property
    def vocab_size(self) -> int:
        return BYTE_OFFSET + 256 + self.num_extra

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset({PAD, BOS, EOS})

    def encode(self, text: str) -> list[int]:
        return [b + BYTE_OFFSET for b in text.encode("utf-8")]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``; special ids are dropped and spare ids shown as ``<extra_k>``."""
        out, buf = [], bytearray()
        for t in ids:
            t = int(t)
            if BYTE_OFFSET <= t < BYTE_OFFSET + 256:
                buf.append(t - BYTE_OFFSET)
                continue
            if buf:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
            if t >= BYTE_OFFSET + 256:
                out.append(f"<extra_{t - BYTE_OFFSET - 256}>")
        if buf:
            out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)
