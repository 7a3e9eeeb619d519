"""The backbone protocol: the narrow interface a vision-language model offers to rt2.

A backbone owns a text tokenizer, turns images into embeddings in its LM's space, computes the
next-token loss on answer tokens, and decodes incrementally with a KV cache. Everything RT-2
specific (prompts, action tokens, grammar) lives above it, in :mod:`rt2.model`.

Sequence layout: ``[image tokens][text tokens]``, or with ``prompt_first`` ``[prompt][image
tokens][answer]`` (the image after column ``prompt_len`` of left-padded prompts, so the prompt's
KV cache does not depend on the image and can serve every step of an episode). ``attention_mask``
(B, T) marks real text tokens (padding may be on either side); ``image_mask`` (B,) marks rows
that have an image (text-only samples, such as world-knowledge facts, have their image tokens
masked out).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rt2.actions.mapping import TextTokenizer

IGNORE_INDEX = -100


@dataclass
class BackboneOutput:
    """Teacher-forced outputs. With labels the head runs only where a labelled token is
    predicted (the answers: a few of the T positions, and a 49k-word head is costly); the full
    ``logits`` come without labels or with ``keep_logits``."""

    logits: torch.Tensor | None  # (B, T, V) over text positions; logits[:, t] predicts token t+1
    loss: torch.Tensor | None = None  # mean next-token loss over labelled positions
    answer_logits: torch.Tensor | None = None  # (M, V) at the M positions predicting a label
    answer_targets: torch.Tensor | None = None  # (M,) the labelled tokens they predict
    answer_rows: torch.Tensor | None = None  # (M,) the batch row of each
    image_tokens: torch.Tensor | None = None  # (B, N, D) as computed (the grounding loss's input)


def prompt_mask(
    input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None
) -> torch.Tensor:
    """(B, T) bool: the prompt's real text tokens, before the first label (an answer, a plan) and
    never an action slot (negative ids): what a ``reads_prompt`` backbone conditions on."""
    mask = attention_mask.bool() & (input_ids >= 0)  # (B, T)
    if labels is not None:
        mask &= (labels != IGNORE_INDEX).long().cumsum(1) == 0
    return mask


class VLMBackbone(nn.Module, ABC):
    """Abstract image+text backbone. Subclasses set ``tokenizer``, ``image_size``,
    ``num_image_tokens`` and ``max_positions`` and implement the abstract methods."""

    tokenizer: TextTokenizer
    image_size: int
    num_image_tokens: int
    max_positions: int

    def preprocess_images(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 images (B, H, W, 3) -> float pixels (B, 3, S, S) in [-1, 1] at ``image_size``."""
        x = torch.as_tensor(np.asarray(images))
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected images of shape (B, H, W, 3), got {tuple(x.shape)}")
        x = x.permute(0, 3, 1, 2).float().div_(255.0)  # (B, 3, H, W)
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size,) * 2, mode="bilinear", antialias=True)
        return x.sub_(0.5).div_(0.5)

    @abstractmethod
    def embed_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels (B, 3, S, S) -> image tokens (B, N, D) in the LM's embedding space."""

    cameras: int = 1  # views per sample; ``num_image_tokens`` counts all of them

    def use_cameras(self, n: int, embed_dim: int) -> None:
        """See ``n`` camera views per sample: each view's tokens in its own block, plus a
        learned camera embedding per block (``camera_embedding`` (n, D)). Call before training
        or loading weights; one camera keeps the backbone as it was."""
        if n < 1:
            raise ValueError(f"use_cameras: expected n >= 1, got {n}")
        if self.cameras != 1:
            raise ValueError(f"use_cameras: this backbone already sees {self.cameras} cameras")
        if n == 1:
            return
        self.cameras = n
        self.num_image_tokens = n * self.num_image_tokens
        self.camera_embedding = nn.Parameter(torch.randn(n, embed_dim) * 0.02)

    #: True for a backbone whose image tokens depend on the prompt (FiLM on the vision features,
    #: as RT-1 conditions its EfficientNet): it gets the prompt through :meth:`condition`
    reads_prompt: bool = False
    #: True: the language model reads the image tokens' values but sends no gradient back into
    #: them (what builds them learns from the grounding loss only; the backward pass stays short)
    detach_image_tokens: bool = False

    def condition(self, input_ids: torch.Tensor, prompt_mask: torch.Tensor) -> torch.Tensor:
        """The prompt (B, T) ids, (B, T) bool mask of its tokens -> a (B, K) code that
        :meth:`embed_images` reads as ``condition``; only backbones that ``reads_prompt``."""
        raise NotImplementedError(f"{type(self).__name__} does not read the prompt")

    def grounding(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Image tokens (B, N, D) -> per grounding target (arm, named thing, goal) cell logits
        (B, K, N) and table positions (B, K, N, 2); only backbones built with a grounding head
        (rt2-mini ``ground``)."""
        raise NotImplementedError(f"{type(self).__name__} has no grounding head")

    def image_tokens(
        self,
        pixels: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Pixels (B * C, ...) of C cameras, sample-major -> image tokens (B, C * N, D).

        The text (B, T) ``input_ids``, ``attention_mask`` and ``labels`` (None: a prompt) are
        read only by a backbone that ``reads_prompt``: its prompt is :func:`prompt_mask`'s."""
        if self.reads_prompt:
            if input_ids is None or attention_mask is None:
                raise ValueError(f"{type(self).__name__} reads the prompt: pass input_ids and mask")
            code = self.condition(input_ids, prompt_mask(input_ids, attention_mask, labels))
            x = self.embed_images(pixels, code.repeat_interleave(self.cameras, 0))  # type: ignore[call-arg]
        else:
            x = self.embed_images(pixels)  # (B * C, N, D)
        C = self.cameras
        if C == 1:
            return x
        BC, N, D = x.shape
        if BC % C:
            raise ValueError(f"{BC} camera images for a backbone that sees {C} per sample")
        x = x.view(BC // C, C, N, D) + self.camera_embedding[None, :, None].to(x.dtype)
        return x.reshape(BC // C, C * N, D)

    @abstractmethod
    def forward(
        self,
        pixels: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        keep_logits: bool = False,
        prompt_len: int | None = None,
    ) -> BackboneOutput:
        """Teacher-forced pass; ``labels`` (B, T) hold ``IGNORE_INDEX`` outside answers;
        ``prompt_len``: the prompts' (left-padded) width, where ``prompt_first`` puts the image."""

    @abstractmethod
    def prefill(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Any]:
        """Run the prompt; return last-position logits (B, V) and an opaque decode cache."""

    @abstractmethod
    def decode_step(
        self, input_ids: torch.Tensor, cache: Any, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, Any]:
        """Feed one token per row (B, 1); return logits (B, V) and the updated cache. ``real``
        (B,) bool: rows whose token counts (False: a finished row feeding padding)."""

    def pretrained_parameter_names(self) -> set[str]:
        """Parameters that reload from the backbone's pretrained source (none when from scratch);
        checkpoints leave them out while they stay frozen."""
        return set()

    def reserved_corpus(self) -> Sequence[str]:
        """Text over which ``reserved`` action ids are picked by frequency (besides the prompts);
        backbones with a real pretrained vocabulary return an offline corpus."""
        return ()

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


@dataclass
class DecodeCache:
    """Decode state: the LM's own cache, key mask (B, T_past) bool, next position id (B,)."""

    past: Any  # e.g. per-layer (keys, values) or an HF ``DynamicCache``
    key_mask: torch.Tensor  # True for real (non-pad) positions
    next_pos: torch.Tensor


class CachedDecoderBackbone(VLMBackbone):
    """Teacher forcing, prefill and cached decoding for a causal LM over ``[image tokens][text
    tokens]``. Subclasses give the text embedding, the LM pass and the output head.

    Attention is causal, except inside *groups*: positions with the same group id > 0 see each
    other in both directions (:func:`visibility`). With ``prefix_lm`` the image and prompt
    tokens form group 1 and only the answer is causal (PaliGemma's prefix-LM; PaLI's encoder
    sees image and text jointly): image tokens can read the instruction. Parallel action
    decoding puts its action slots in group 2 (:mod:`rt2.decoding.parallel`).
    """

    prefix_lm: bool = False
    prompt_first: bool = False  # [prompt][image][answer]: see the module docstring

    @property
    def embed_dim(self) -> int:
        """Width of the LM's token embeddings."""
        return int(self._embed_text(torch.zeros(1, 1, dtype=torch.long)).shape[-1])

    def _embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _run(
        self,
        x: torch.Tensor,
        key_mask: torch.Tensor,
        positions: torch.Tensor,
        past: Any = None,
        use_cache: bool = False,
        groups: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Any]:
        """Embeddings (B, Q, D), key mask (B, K) incl. past -> hidden (B, Q, D) and new past;
        ``groups`` (B, K) long: see :func:`visibility` (None: causal)."""
        raise NotImplementedError

    # ---- public pieces (parallel decoding builds on them) -------------------------------
    def embed_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) -> embeddings (B, T, D)."""
        return self._embed_text(input_ids)

    def logits_of(self, hidden: torch.Tensor) -> torch.Tensor:
        """Hidden states (..., D) -> logits (..., V). The head runs on a 2-D view: a 3-D slice
        such as ``h[:, -S:]`` sends ``matmul`` to a ``bmm`` over a copy of the whole head
        (576 x 49k for SmolLM2: half of rt2-mini's one-pass step in bf16)."""
        logits = self._logits(hidden.reshape(-1, hidden.shape[-1]))  # (N, V)
        return logits.view(*hidden.shape[:-1], logits.shape[-1])

    def text_groups(
        self, attention_mask: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor | None:
        """(B, T) groups of the text positions in training: the prompt (the real tokens before
        the first label) is group 1 under ``prefix_lm``; None when everything is causal. A
        follow-up question after an answer stays causal: were it in the prefix, the prefix
        would read the answer before it and hand it to that answer's own predictions."""
        if not self.prefix_lm or labels is None:
            return None
        before_answer = (labels != IGNORE_INDEX).long().cumsum(1) == 0  # (B, T)
        return (attention_mask.bool() & before_answer).long()  # (B, T)

    def _inputs(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None,
        prompt_len: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The sequence's embeddings (B, N + T, D), key mask and positions."""
        text = self._embed_text(input_ids)
        return self._layout(image_embeds, text, attention_mask, image_mask, prompt_len)

    def image_at(self, prompt_len: int | None) -> int:
        """The text column the image tokens precede: 0, or ``prompt_len`` with ``prompt_first``."""
        if not self.prompt_first:
            return 0
        if prompt_len is None:
            raise ValueError("prompt_first: the batch must say where its prompts end (prompt_len)")
        return prompt_len

    def _layout(
        self,
        image_embeds: torch.Tensor,
        text_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None,
        prompt_len: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Image and text embeddings -> the sequence (B, N + T, D), key mask and positions."""
        at = self.image_at(prompt_len)
        img = image_embeds.to(text_embeds.dtype)
        x = torch.cat([text_embeds[:, :at], img, text_embeds[:, at:]], dim=1)  # (B, N + T, D)
        keys = full_key_mask(attention_mask, image_mask, self.num_image_tokens)  # image first
        N = self.num_image_tokens
        key_mask = torch.cat([keys[:, N : N + at], keys[:, :N], keys[:, N + at :]], dim=1)
        return x, key_mask, positions_from_mask(key_mask, self.max_positions)

    def _text_hidden(
        self, h: torch.Tensor, at: int, image_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Hidden states (B, N + T, D) of the sequence -> (B, T, D) at the text positions. With
        the image after the prompt, the prompt's last column gives the last image position's
        state instead (rows with an image): that is what predicts the first answer token."""
        N = self.num_image_tokens
        if at == 0:
            return h[:, N:]
        last = h[:, at + N - 1 : at + N]  # (B, 1, D) the last image token
        if image_mask is not None:
            last = torch.where(image_mask.bool()[:, None, None], last, h[:, at - 1 : at])
        return torch.cat([h[:, : at - 1], last, h[:, at + N :]], dim=1)

    def hidden(
        self,
        image_embeds: torch.Tensor,
        text_embeds: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
        groups: torch.Tensor | None = None,
        prompt_len: int | None = None,
    ) -> torch.Tensor:
        """Teacher-forced hidden states (B, T, D) of the text positions; ``groups`` (B, T) of
        the text positions (image tokens join group 1 under ``prefix_lm``)."""
        at = self.image_at(prompt_len)
        x, key_mask, positions = self._layout(
            image_embeds, text_embeds, attention_mask, image_mask, prompt_len
        )
        full = None
        if groups is not None:
            img = torch.full_like(key_mask[:, : self.num_image_tokens], int(self.prefix_lm))
            full = torch.cat([groups[:, :at], img.long(), groups[:, at:]], dim=1)  # (B, N + T)
        h, _ = self._run(x, key_mask, positions, groups=full)
        return self._text_hidden(h, at, image_mask)

    def forward(
        self,
        pixels: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        keep_logits: bool = False,
        prompt_len: int | None = None,
    ) -> BackboneOutput:
        x = self.image_tokens(pixels, input_ids, attention_mask, labels)  # (B, N, D)
        h = self.hidden(
            x.detach() if self.detach_image_tokens else x,
            self._embed_text(input_ids),
            attention_mask,
            image_mask,
            self.text_groups(attention_mask, labels),
            prompt_len,
        )  # (B, T, D)
        if labels is None:
            return BackboneOutput(logits=self.logits_of(h), image_tokens=x)
        out = answer_output(h, labels, self._logits, keep_logits)
        out.image_tokens = x
        return out

    def prefill(
        self,
        image_embeds: torch.Tensor,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, DecodeCache]:
        if not bool(attention_mask[:, -1].all()):
            raise ValueError("prefill needs left-padded prompts (the last position must be real)")
        T = input_ids.shape[1]
        x, key_mask, positions = self._inputs(
            image_embeds, input_ids, attention_mask, image_mask, T
        )
        groups = key_mask.long() if self.prefix_lm else None  # the whole prompt is the prefix
        h, past = self._run(x, key_mask, positions, use_cache=True, groups=groups)
        last = self._text_hidden(h, self.image_at(T), image_mask)[:, -1]  # (B, D)
        return self._logits(last), DecodeCache(past, key_mask, positions[:, -1] + 1)

    def prompt_cache(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> DecodeCache:
        """``prompt_first`` only: the decode cache of left-padded prompts (B, T) alone, to
        :meth:`extend` with each step's image tokens (and action slots). The LM's cache grows
        in place when extended: extend a copy to keep this one."""
        if not self.prompt_first:
            raise ValueError("prompt_cache needs prompt_first (the image before the prompt)")
        if not bool(attention_mask[:, -1].all()):
            raise ValueError("prompt_cache needs left-padded prompts (the last position is real)")
        key_mask = attention_mask.bool()
        positions = positions_from_mask(key_mask, self.max_positions)
        _, past = self._run(self._embed_text(input_ids), key_mask, positions, use_cache=True)
        return DecodeCache(past, key_mask, positions[:, -1] + 1)

    def decode_step(
        self, input_ids: torch.Tensor, cache: DecodeCache, real: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, DecodeCache]:
        """Feed one token per row (B, 1); ``real`` (B,) bool: rows whose token counts (a row
        that has finished feeds padding that later positions must not see)."""
        logits, cache = self.extend(self._embed_text(input_ids), cache, real=real)
        return logits[:, -1], cache

    def extend(
        self,
        embeds: torch.Tensor,
        cache: DecodeCache,
        bidirectional: int = 0,
        real: torch.Tensor | None = None,
        logits_last: int | None = None,
    ) -> tuple[torch.Tensor, DecodeCache]:
        """Feed Q new positions per row (B, Q, D) after the cache: logits (B, Q, V), or of the
        last ``logits_last`` positions only. They see each other causally; the last
        ``bidirectional`` of them (action slots) see each other in both directions."""
        B, Q = embeds.shape[:2]
        if int(cache.next_pos.max()) + Q > self.max_positions:
            raise ValueError(f"decoding past max_positions={self.max_positions}")
        fed = torch.ones(B, Q, dtype=torch.bool) if real is None else real[:, None].expand(B, Q)
        key_mask = torch.cat([cache.key_mask, fed], dim=1)  # (B, K + Q)
        positions = cache.next_pos[:, None] + torch.arange(Q)[None]  # (B, Q)
        groups = None
        if bidirectional:
            groups = torch.zeros(key_mask.shape, dtype=torch.long)
            groups[:, -bidirectional:] = 2
        h, past = self._run(embeds, key_mask, positions, cache.past, use_cache=True, groups=groups)
        step = Q if real is None else Q * real.long()  # finished rows keep their position
        out = h if logits_last is None else h[:, -logits_last:]  # no head over image positions
        return self.logits_of(out), DecodeCache(past, key_mask, cache.next_pos + step)


def check_prompt_first(config: Any) -> None:
    """A backbone config's ``prompt_first`` needs a causal prompt (not ``prefix_lm``)."""
    if getattr(config, "prompt_first", False) and getattr(config, "prefix_lm", False):
        raise ValueError(
            f"{type(config).__name__}: prompt_first keeps the prompt causal so its KV cache can "
            "serve every step; prefix_lm would let it read the image: set one of them"
        )


def visibility(
    key_mask: torch.Tensor, num_queries: int, groups: torch.Tensor | None = None
) -> torch.Tensor:
    """Which keys each query sees, (B, 1, Q, K) bool; queries are the last Q of the K keys.

    Causal, plus: positions of the same group id > 0 in ``groups`` (B, K) see each other in both
    directions. Padded keys are hidden, but every query sees itself (no all-masked rows)."""
    K, Q = key_mask.shape[1], num_queries
    seen = torch.ones(Q, K, dtype=torch.bool, device=key_mask.device).tril(diagonal=K - Q)
    seen = seen[None, None]  # (1, 1, Q, K)
    if groups is not None:
        gq, gk = groups[:, K - Q :, None], groups[:, None, :]  # (B, Q, 1), (B, 1, K)
        seen = seen | ((gq == gk) & (gq > 0))[:, None]  # (B, 1, Q, K)
    allowed = seen & key_mask[:, None, None, :]
    idx = torch.arange(Q, device=key_mask.device)
    allowed[:, :, idx, idx + K - Q] = True
    return allowed


def full_key_mask(
    attention_mask: torch.Tensor, image_mask: torch.Tensor | None, num_image_tokens: int
) -> torch.Tensor:
    """(B, T) text mask + (B,) image flags -> (B, N + T) bool key mask."""
    B = attention_mask.shape[0]
    img = (
        torch.ones(B, dtype=torch.bool, device=attention_mask.device)
        if image_mask is None
        else image_mask.bool()
    )
    return torch.cat([img[:, None].expand(B, num_image_tokens), attention_mask.bool()], 1)


def positions_from_mask(key_mask: torch.Tensor, max_positions: int) -> torch.Tensor:
    """(B, T) bool -> (B, T) position ids counting real keys only."""
    pos = (key_mask.long().cumsum(1) - 1).clamp(min=0)
    if int(pos.max()) >= max_positions:
        raise ValueError(
            f"sequence of {int(pos.max()) + 1} positions exceeds max_positions={max_positions}"
        )
    return pos


def answer_output(
    hidden: torch.Tensor,
    labels: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    keep_logits: bool = False,
) -> BackboneOutput:
    """Loss and head outputs at the positions predicting labelled tokens: hidden (B, T, D) at
    position t predicts labels[:, t + 1]."""
    target = labels[:, 1:]  # (B, T-1)
    rows, cols = (target != IGNORE_INDEX).nonzero(as_tuple=True)  # (M,), (M,)
    if keep_logits:
        logits = head(hidden.contiguous())  # (B, T, V)
        picked = logits[rows, cols]  # (M, V)
    else:
        logits, picked = None, head(hidden[rows, cols])  # (M, D) -> (M, V)
    targets = target[rows, cols]  # (M,)
    loss = (
        F.cross_entropy(picked.float(), targets)
        if len(targets)
        else hidden.sum() * 0.0  # no labelled token: a zero that still has a graph
    )
    return BackboneOutput(
        logits=logits, loss=loss, answer_logits=picked, answer_targets=targets, answer_rows=rows
    )
