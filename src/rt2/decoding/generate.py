"""Batched incremental decoding under the action grammar.

Each row of a batch decodes in one of three modes:

* ``action``: every token is constrained to the action grammar (RT-2's output constraint);
* ``cot``: free text (the plan) until the text ends with the action marker (``"Action:"``),
  then constrained; a plan that runs too long gets the marker forced, so an action always follows;
* ``text``: the whole vocabulary, until EOS (ordinary VQA);
* ``plan``: as ``cot``, but the row ends after the marker; the returned cache holds the prompt,
  the plan and the marker, ready for the action slots of parallel decoding.

Per-dimension probabilities (the product of the chosen tokens' probabilities under the
constrained distribution) are returned so callers can see how confident each value is.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from rt2.actions.grammar import DONE, ActionGrammar
from rt2.actions.mapping import TextTokenizer
from rt2.backbones.base import VLMBackbone

Mode = Literal["action", "cot", "text", "plan"]


@dataclass(frozen=True)
class SamplingConfig:
    """``temperature == 0`` is greedy; ``top_k > 0`` keeps the k most likely allowed tokens."""

    temperature: float = 0.0
    top_k: int = 0
    max_new_tokens: int = 64  # text answers and chain-of-thought plans (bytes, for the tiny model)
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"SamplingConfig.temperature must be >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ValueError(f"SamplingConfig.top_k must be >= 0, got {self.top_k}")
        if self.max_new_tokens < 1:
            raise ValueError(
                f"SamplingConfig.max_new_tokens must be >= 1, got {self.max_new_tokens}"
            )


@dataclass
class Generation:
    tokens: list[list[int]]  # per row, every generated id (EOS excluded)
    action_tokens: list[list[int] | None]  # per row, the ids after the action marker
    text_tokens: list[list[int]]  # per row, the free-text ids (a plan, or a whole answer)
    dim_probs: np.ndarray  # (B, D) probability of each chosen value; NaN for text rows
    timings: dict[str, float] = field(default_factory=dict)  # seconds: vision, prefill, decode
    steps: int = 0  # decode steps run
    cache: Any = None  # the backbone's decode cache after the last fed token


@dataclass
class _Row:
    mode: Mode
    state: int = -2  # grammar state once constrained
    done: bool = False
    free: int = 0  # free-text tokens so far
    forced: list[int] = field(default_factory=list)
    action_start: int | None = None  # index in tokens where the action begins


def generate(
    backbone: VLMBackbone,
    pixels: torch.Tensor,
    image_mask: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    modes: Sequence[Mode],
    grammar: ActionGrammar,
    sampling: SamplingConfig | None = None,
    action_marker: str = "Action:",
) -> Generation:
    """Decode a left-padded prompt batch (see :meth:`rt2.samples.BatchBuilder.prompts`)."""
    sampling = sampling or SamplingConfig()
    tok: TextTokenizer = backbone.tokenizer
    B, V = input_ids.shape[0], tok.vocab_size
    if len(modes) != B:
        raise ValueError(f"got {len(modes)} modes for a batch of {B}")
    gen = torch.Generator().manual_seed(sampling.seed) if sampling.seed is not None else None
    rows = [_Row(mode=m) for m in modes]
    for r in rows:
        if r.mode == "action":
            r.state, r.action_start = grammar.start, 0
    tokens: list[list[int]] = [[] for _ in range(B)]
    dim_probs = np.ones((B, grammar.num_dims))  # (B, D)
    dim_probs[[m == "text" for m in modes]] = np.nan
    free_mask = torch.ones(V, dtype=torch.bool)
    free_mask[[tok.pad_id, tok.bos_id]] = False
    plan_mask = free_mask.clone()
    plan_mask[tok.eos_id] = False
    marker_ids = tok.encode(" " + action_marker.strip())
    max_steps = sampling.max_new_tokens + len(marker_ids) + grammar.max_length

    t0 = time.perf_counter()
    image_embeds = backbone.image_tokens(pixels, input_ids, attention_mask)  # (B, N, D)
    t1 = time.perf_counter()
    logits, cache = backbone.prefill(image_embeds, input_ids, attention_mask, image_mask)
    t2 = time.perf_counter()
    steps = 0
    for _ in range(max_steps):
        live = torch.tensor([not r.done for r in rows])  # (B,) rows whose next token counts
        allowed = torch.zeros(B, V, dtype=torch.bool)  # (B, V)
        for i, r in enumerate(rows):
            if r.done:
                allowed[i, tok.pad_id] = True
            elif r.forced:
                allowed[i, r.forced[0]] = True
            elif r.state >= 0:
                allowed[i, grammar.allowed(r.state)] = True
            else:
                allowed[i] = plan_mask if r.mode in ("cot", "plan") else free_mask
        scores = logits.float().masked_fill(~allowed, float("-inf"))  # (B, V)
        probs = torch.softmax(scores, dim=-1)  # (B, V), for confidence
        nxt = _choose(scores, sampling, gen)  # (B,)
        for i, r in enumerate(rows):
            if r.done:
                continue
            t = int(nxt[i])
            if r.state >= 0:  # constrained to the action grammar
                new_state = grammar.advance(r.state, t)
                if new_state != DONE:
                    dim_probs[i, grammar.dim_of(new_state)] *= float(probs[i, t])
                    tokens[i].append(t)
                r.state, r.done = new_state, grammar.is_done(new_state)
                continue
            if t == tok.eos_id:  # only text rows may end freely
                r.done = True
                continue
            tokens[i].append(t)
            if r.mode == "text":
                r.free += 1
                r.done = r.free >= sampling.max_new_tokens
                continue
            # chain of thought: the plan runs until the marker, written or forced
            was_forced = bool(r.forced)
            if was_forced:
                r.forced.pop(0)
                if r.forced:
                    continue
            if was_forced or tok.decode(tokens[i]).rstrip().endswith(action_marker.strip()):
                r.action_start = len(tokens[i])
                if r.mode == "plan":
                    r.done = True
                else:
                    r.state = grammar.start
                continue
            r.free += 1
            if r.free >= sampling.max_new_tokens:
                r.forced = list(marker_ids)
        if all(r.done for r in rows) and not any(r.mode == "plan" for r in rows):
            break
        # finished rows feed padding that must not count (plans end at different steps)
        logits, cache = backbone.decode_step(nxt[:, None], cache, real=live)
        steps += 1
        if all(r.done for r in rows):
            break
    t3 = time.perf_counter()
    if not all(r.done for r in rows):
        raise RuntimeError(f"decoding did not finish within {max_steps} steps")  # a grammar bug
    starts = [r.action_start for r in rows]
    action_tokens = [t[a:] if a is not None else None for t, a in zip(tokens, starts, strict=True)]
    text_tokens = [t[:a] if a is not None else t for t, a in zip(tokens, starts, strict=True)]
    return Generation(
        tokens=tokens,
        action_tokens=action_tokens,
        text_tokens=text_tokens,
        dim_probs=dim_probs,
        timings={"vision": t1 - t0, "prefill": t2 - t1, "decode": t3 - t2},
        steps=steps,
        cache=cache,
    )


def _choose(
    scores: torch.Tensor, sampling: SamplingConfig, gen: torch.Generator | None
) -> torch.Tensor:
    """Pick one id per row from masked scores (B, V): argmax, or sample with temperature/top-k."""
    if sampling.temperature == 0:
        return scores.argmax(dim=-1)
    scores = scores / sampling.temperature
    if sampling.top_k:
        kth = scores.topk(min(sampling.top_k, scores.shape[-1]), dim=-1).values[:, -1:]  # (B, 1)
        scores = scores.masked_fill(scores < kth, float("-inf"))
    return torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=gen)[:, 0]
