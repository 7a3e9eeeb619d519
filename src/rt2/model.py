"""The Vision-Language-Action model: a backbone that writes actions as text tokens (RT-2).

``VLA`` = backbone + action tokenizer (bins) + token mapping (bins -> token ids) + prompt format.
Training is next-token prediction on answers (:meth:`VLA.loss`); acting decodes under the action
grammar (:meth:`VLA.act`); ordinary questions decode freely (:meth:`VLA.answer`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rt2.actions import ActionGrammar, ActionSpace, ActionTokenizer, TokenMapping, build_mapping
from rt2.actions.state import StateFormat
from rt2.backbones import VLMBackbone, build_backbone
from rt2.backbones.base import (
    IGNORE_INDEX,
    BackboneOutput,
    CachedDecoderBackbone,
    answer_output,
)
from rt2.backbones.grounding import GROUND_TARGETS, read_positions
from rt2.data.plan import PlanFormat
from rt2.decoding import Generation, SamplingConfig, generate
from rt2.decoding.parallel import ActionSlots, DecodingConfig, slot_input_ids
from rt2.samples import Batch, BatchBuilder, PromptFormat, RobotSample, Sample, TextSample

Precision = Literal["float32", "bfloat16"]


@dataclass
class ActResult:
    actions: np.ndarray  # (B, D) continuous actions (bin centres): the first of each chunk
    bins: np.ndarray  # (B, D) int bins
    dim_probs: np.ndarray  # (B, D) probability of each chosen value
    texts: list[str]  # (B,) the action strings, "1 128 91 ..."
    plans: list[str | None] = field(default_factory=list)  # chain-of-thought plans
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    chunks: np.ndarray | None = None  # (B, K, D) the whole chunk of K actions


@dataclass
class LossOutput:
    loss: torch.Tensor
    metrics: dict[str, float]  # detached numbers for logging


class VLA(nn.Module):
    """RT-2 style VLA over any :class:`~rt2.backbones.VLMBackbone`."""

    def __init__(
        self,
        backbone: VLMBackbone,
        action_tokenizer: ActionTokenizer,
        mapping: TokenMapping,
        prompt: PromptFormat | None = None,
        sampling: SamplingConfig | None = None,
        precision: Precision = "float32",
        decoding: DecodingConfig | None = None,
        state: StateFormat | None = None,
        cameras: Sequence[str] = (),
    ) -> None:
        super().__init__()
        if tuple(mapping.num_values) != tuple(int(n) for n in action_tokenizer.num_values):
            raise ValueError(
                f"mapping covers values {mapping.num_values}, action tokenizer has "
                f"{tuple(action_tokenizer.num_values)}"
            )
        bad = [t for t in mapping.action_token_ids if not 0 <= t < backbone.tokenizer.vocab_size]
        if bad:
            raise ValueError(
                f"action token ids {sorted(bad)[:5]} are outside the backbone vocabulary"
            )
        self.backbone = backbone
        self.action_tokenizer = action_tokenizer
        self.mapping = mapping
        self.prompt = prompt or PromptFormat()
        self.sampling = sampling or SamplingConfig()
        self.precision: Precision = precision
        self.grammar = ActionGrammar(mapping, eos_id=backbone.tokenizer.eos_id)
        self.decoding = decoding or DecodingConfig()
        self.state_format = state  # the robot state it reads as prompt tokens, if any
        self.cameras = tuple(cameras)  # the camera names it sees, in order (old models: ())
        # > 0: add this times the grounding loss (a backbone with a grounding head, samples that
        # say ``where`` the named thing is)
        self.grounding_weight = 0.0
        # a plan format: with a plan (cot), the grounding head writes it and the LM reads it
        # (``model.plan_source="head"``); None: the LM writes its own plan token by token
        self.head_plan: PlanFormat | None = None
        if len(self.cameras) > 1 and backbone.cameras == 1:
            backbone.use_cameras(len(self.cameras), _embed_dim(backbone))
        if max(1, len(self.cameras)) != backbone.cameras:
            raise ValueError(
                f"cameras {list(self.cameras)} for a backbone that sees {backbone.cameras}"
            )
        self.slots = None
        if self.decoding.parallel:
            if not isinstance(backbone, CachedDecoderBackbone):
                raise ValueError(
                    f"parallel decoding needs a cached decoder backbone, got {type(backbone).__name__}"
                )
            self.slots = ActionSlots(
                mapping, self.decoding.chunk, backbone.embed_dim, _embedding_scale(backbone)
            )
        self.builder = BatchBuilder(
            backbone.tokenizer,
            action_tokenizer,
            mapping,
            backbone.preprocess_images,
            backbone.image_size,
            self.prompt,
            max_length=backbone.max_positions - backbone.num_image_tokens,
            slots=self.slots,
            prompt_first=bool(getattr(backbone, "prompt_first", False)),
            state=state,
            cameras=self.cameras,
        )
        self._prompt_cache: tuple[tuple, Any] | None = None  # (key, DecodeCache) of prompts
        self._action_ids = torch.tensor(sorted(mapping.action_token_ids), dtype=torch.long)

    def train(self, mode: bool = True) -> VLA:
        self._prompt_cache = None  # switching modes (or precision, or weights) drops it
        return super().train(mode)

    @property
    def action_space(self) -> ActionSpace:
        return self.action_tokenizer.space

    def spec(self) -> dict[str, Any]:
        """Everything besides weights needed to rebuild the action interface (json-able)."""
        spec = {
            "action_tokenizer": self.action_tokenizer.to_dict(),
            "mapping": self.mapping.to_dict(),
            "prompt": vars(self.prompt),
            "decoding": vars(self.decoding),
        }
        if self.state_format is not None:
            spec["state"] = self.state_format.to_dict()
        if self.cameras:
            spec["cameras"] = list(self.cameras)
        return spec

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bfloat16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def compile_for_inference(self, mode: str = "max-autotune") -> VLA:
        """``torch.compile`` the backbone for acting, in place (HF-decoder backbones: rt2-mini and
        hf; :meth:`~rt2.backbones.hf_lm.HFDecoderBackbone.compile_for_inference`). Inference
        only: the weights are frozen into the compiled graph. ``mode``: ``torch.compile``'s."""
        compile_backbone = getattr(self.backbone, "compile_for_inference", None)
        if compile_backbone is None:
            raise ValueError(
                f"compile: the {type(self.backbone).__name__} backbone has no compiled path "
                "(rt2-mini and hf have one); run it without --compile"
            )
        self.eval().requires_grad_(False)
        compile_backbone(mode)
        return self

    def pretrained_parameter_names(self) -> set[str]:
        return {f"backbone.{n}" for n in self.backbone.pretrained_parameter_names()}

    # ---- training -----------------------------------------------------------------------
    def collate(self, samples: Sequence[Sample]) -> Batch:
        return self.builder.collate(samples)

    def forward(self, batch: Batch) -> LossOutput:
        """Training forward pass (what DDP / Accelerate wrap): the loss of a collated batch."""
        return self.loss(batch)

    def loss(self, batch: Batch) -> LossOutput:
        """Next-token loss on answers, plus action-token accuracy on robot rows."""
        if batch.labels is None:
            raise ValueError("loss needs a training batch (built with collate), not prompts")
        with self.autocast():
            if self.slots is not None:
                out = self.parallel_output(batch)
            else:
                out = self.backbone(
                    batch.pixels,
                    batch.input_ids,
                    batch.attention_mask,
                    batch.image_mask,
                    batch.labels,
                    prompt_len=batch.prompt_len,
                )
        assert out.loss is not None and out.answer_logits is not None
        with torch.no_grad():
            pred = out.answer_logits.argmax(-1)  # (M,)
            target = out.answer_targets  # (M,)
            is_action = torch.isin(target, self._action_ids) & batch.is_robot[out.answer_rows]
            n = int(is_action.sum())
            acc = float((pred == target)[is_action].float().mean()) if n else float("nan")
        metrics = {"loss": float(out.loss.detach()), "action_token_acc": acc}
        loss = out.loss
        if self.grounding_weight > 0 and batch.where is not None:
            assert out.image_tokens is not None
            ground = self.grounding_loss(out.image_tokens, batch.where)
            if ground is not None:
                loss = loss + self.grounding_weight * ground[0]
                metrics |= ground[1]
        return LossOutput(loss, metrics)

    def grounding_loss(
        self, image_tokens: torch.Tensor, where: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]] | None:
        """The grounding head's loss on the (first camera's) image tokens (B, N', D) for the
        targets ``where`` (B, K, 4) knows (None: none): cross-entropy over the g x g cells on
        the one at (u, v), plus 10 x the L1 error of the table (x, y) regressed there (half-
        extents; 0.05 is ~0.8 plan cells of 32). Metrics: the loss, the cell's accuracy, the
        L1 error."""
        known = torch.isfinite(where).all(-1)  # (B, K)
        rows = known.any(1)  # (B,)
        if not bool(rows.any()):
            return None
        bb = self.backbone
        n = bb.num_image_tokens // bb.cameras
        g = math.isqrt(n)
        logits, xy = bb.grounding(image_tokens[rows, :n])  # (R, K, N), (R, K, N, 2)
        known, w = known[rows], where[rows][known[rows]]  # (R, K), (M, 4)
        cells = (w[:, :2] * g).long().clamp(0, g - 1)  # (M, 2) column, row
        target = cells[:, 1] * g + cells[:, 0]  # (M,) raster order
        logits = logits[known]  # (M, N)
        at = xy[known].gather(1, target[:, None, None].expand(-1, 1, 2))[:, 0]  # (M, 2)
        ce = torch.nn.functional.cross_entropy(logits, target)
        l1 = (at - w[:, 2:]).abs().mean()
        loss = ce + 10 * l1
        acc = float((logits.argmax(1) == target).float().mean())
        return loss, {
            "ground_loss": float(loss.detach()),
            "ground_acc": acc,
            "ground_l1": float(l1.detach()),
        }

    def parallel_output(self, batch: Batch) -> BackboneOutput:
        """Teacher forcing with action slots: the answers' next-token loss (plans, web text) and
        the slots' loss on their action tokens, as one mean over all labelled tokens."""
        assert self.slots is not None and batch.slot_targets is not None
        bb = self.backbone
        is_slot = batch.input_ids < 0  # (B, T)
        x = bb.image_tokens(batch.pixels, batch.input_ids, batch.attention_mask, batch.labels)
        h = self._forced_hidden(x.detach() if bb.detach_image_tokens else x, batch)  # (B, T, E)
        ar = answer_output(h, batch.labels, bb.logits_of)
        rows = batch.is_robot.nonzero()[:, 0]  # every robot row holds all S slots, in order
        slot_out = bb.logits_of(h[is_slot])  # (R * S, V)
        slot_targets = batch.slot_targets[rows].reshape(-1)  # (R * S,)
        assert ar.answer_logits is not None and ar.answer_targets is not None
        logits = torch.cat([ar.answer_logits, slot_out])  # (M + R * S, V)
        targets = torch.cat([ar.answer_targets, slot_targets])
        labelled = targets != IGNORE_INDEX
        return BackboneOutput(
            logits=None,
            loss=torch.nn.functional.cross_entropy(logits[labelled].float(), targets[labelled]),
            answer_logits=logits[labelled],
            answer_targets=targets[labelled],
            answer_rows=torch.cat([ar.answer_rows, rows.repeat_interleave(self.slots.num_slots)])[
                labelled
            ],
            image_tokens=x,
        )

    # ---- inference ----------------------------------------------------------------------
    @torch.inference_mode()
    def act_batch(
        self,
        images: Sequence[np.ndarray] | np.ndarray,
        instructions: Sequence[str],
        *,
        cot: bool = False,
        sampling: SamplingConfig | None = None,
        states: Sequence[np.ndarray] | np.ndarray | None = None,
    ) -> ActResult:
        """Images (B, H, W, 3) uint8 + instructions (+ states (B, S) for a model that reads the
        state) -> actions (B, D) under the action grammar."""
        if len(images) != len(instructions):
            raise ValueError(f"got {len(images)} images and {len(instructions)} instructions")
        if states is not None and len(states) != len(images):
            raise ValueError(f"got {len(states)} states for {len(images)} images")
        rows = [None] * len(images) if states is None else list(states)
        samples = [
            RobotSample(np.asarray(im), ins, state=None if st is None else np.asarray(st))
            for im, ins, st in zip(images, instructions, rows, strict=True)
        ]
        if self.slots is not None:
            return self._act_parallel(samples, cot, sampling)
        gen = self._generate(samples, ["cot" if cot else "action"] * len(samples), sampling)
        bins = np.stack([self.grammar.parse(ids) for ids in gen.action_tokens])  # (B, D)
        decode = self.backbone.tokenizer.decode
        plans = [decode(t) for t in gen.text_tokens] if cot else [None] * len(samples)
        return ActResult(
            actions=self.action_tokenizer.decode(bins),
            bins=bins,
            dim_probs=gen.dim_probs,
            texts=[self.action_tokenizer.format(b) for b in bins],
            plans=plans,
            timings=gen.timings,
        )

    def _act_parallel(
        self, samples: Sequence[RobotSample], cot: bool, sampling: SamplingConfig | None
    ) -> ActResult:
        """Without a plan: one forward pass over [image][prompt][slots]. With one: prefill, the
        plan token by token, then every action slot in one pass over the cache."""
        assert self.slots is not None
        batch = self.builder.prompts(samples)
        bb = self.backbone
        t0 = time.perf_counter()
        with self.autocast():
            if cot and self.head_plan is not None:  # the grounding head writes the plan
                x = bb.image_tokens(batch.pixels, batch.input_ids, batch.attention_mask)
                written = self.head_plans(batch, x)
                t1 = time.perf_counter()
                logits = self._act_on_plans(samples, written, x)  # (B, S, V)
                plans: list[str | None] = [self.prompt.plan_text(p).strip() for p in written]
                timings = {"vision": t1 - t0, "prefill": time.perf_counter() - t1, "decode": 0.0}
            elif cot:
                gen = self._generate(samples, ["plan"] * len(samples), sampling, batch)
                timings = dict(gen.timings)
                t2 = time.perf_counter()
                dtype = bb.embed_text(batch.input_ids[:, :1]).dtype
                queries = self.slots.queries[None].expand(len(samples), -1, -1)  # (B, S, E)
                logits, _ = bb.extend(queries.to(dtype), gen.cache, bidirectional=queries.shape[1])
                timings["decode"] += time.perf_counter() - t2  # (B, S, V) logits
                plans = [bb.tokenizer.decode(t) for t in gen.text_tokens]
            else:
                plans = [None] * len(samples)
                image_embeds = bb.image_tokens(batch.pixels, batch.input_ids, batch.attention_mask)
                t1 = time.perf_counter()
                if bb.prompt_first:  # the prompt's KV cache, kept while the prompts repeat
                    logits = self.cached_slot_logits(image_embeds, batch)  # (B, S, V)
                else:
                    logits = self.slot_logits(image_embeds, batch)  # (B, S, V)
                timings = {"vision": t1 - t0, "prefill": time.perf_counter() - t1, "decode": 0.0}
        chunk_bins, probs = self.slots.read(logits)  # (B, K, D)
        B, K, D = chunk_bins.shape
        chunks = self.action_tokenizer.decode(chunk_bins.reshape(B * K, D)).reshape(B, K, D)
        return ActResult(
            actions=chunks[:, 0],
            bins=chunk_bins[:, 0],
            dim_probs=probs[:, 0],
            texts=[self.action_tokenizer.format(b) for b in chunk_bins[:, 0]],
            plans=plans,
            timings=timings,
            chunks=chunks,
        )

    def _forced_hidden(self, image_embeds: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Hidden states (B, T, E) of a collated batch as training lays it out (answers and
        slots after the prompt)."""
        return self._slot_hidden(
            image_embeds,
            batch.input_ids,
            batch.attention_mask,
            batch.image_mask,
            self.backbone.text_groups(batch.attention_mask, batch.labels),
            batch.prompt_len,
        )

    def head_plans(self, batch: Batch, image_tokens: torch.Tensor | None = None) -> list[str]:
        """The grounding head's plan text for each prompt of ``batch``: the (arm, block, goal)
        table positions it reads off the first camera's image tokens (``image_tokens`` (B, N, D)
        when already computed for these prompts), on :attr:`head_plan`'s grid."""
        fmt, bb = self.head_plan, self.backbone
        if fmt is None:
            raise ValueError("head_plans needs head_plan (a PlanFormat) set")
        x = image_tokens
        if x is None:
            x = bb.image_tokens(batch.pixels, batch.input_ids, batch.attention_mask)
        logits, xy = bb.grounding(x[:, : bb.num_image_tokens // bb.cameras])
        pos = read_positions(logits, xy).cpu().numpy()  # (B, K, 2)
        order = [GROUND_TARGETS.index(name) for name in fmt.labels]
        return [fmt.text(p[order].reshape(-1)) for p in pos]

    def _act_on_plans(
        self,
        samples: Sequence[RobotSample],
        plans: Sequence[str],
        image_tokens: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Slot logits (B, S, V) after the given plans, in one pass laid out as in training
        (``image_tokens`` (B, N, D): the samples' own, when already computed; they read the
        prompt, never the plan)."""
        assert self.slots is not None
        D, K = self.action_tokenizer.dim, self.slots.chunk
        blank = np.zeros((K, D) if K > 1 else (D,))
        batch = self.builder.collate(
            [replace(s, action=blank, plan=p) for s, p in zip(samples, plans, strict=True)]
        )
        x = image_tokens
        if x is None:
            x = self.backbone.image_tokens(
                batch.pixels, batch.input_ids, batch.attention_mask, batch.labels
            )
        h = self._forced_hidden(x, batch)  # (B, T, E)
        slots = h[batch.input_ids < 0].view(len(samples), self.slots.num_slots, -1)
        return self.backbone.logits_of(slots)

    def slot_logits(self, image_embeds: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Slot logits (B, S, V) of left-padded prompts in one pass over [image][prompt][slots]."""
        assert self.slots is not None
        bb, S = self.backbone, self.slots.num_slots
        B = len(batch)
        slots = torch.tensor(slot_input_ids(S))[None].expand(B, S)  # (B, S)
        ids = torch.cat([batch.input_ids, slots], dim=1)  # (B, T + S)
        mask = torch.cat([batch.attention_mask, torch.ones(B, S, dtype=torch.long)], dim=1)
        prompt = mask.long() if bb.prefix_lm else None  # the prompt: group 1
        T = batch.input_ids.shape[1]
        h = self._slot_hidden(image_embeds, ids, mask, batch.image_mask, prompt, T)  # (B, T + S, E)
        return bb.logits_of(h[:, -S:])

    def cached_slot_logits(self, image_embeds: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Slot logits (B, S, V) of a ``prompt_first`` backbone: [image][slots] over the KV
        cache of the prompts, computed once while the same prompts come back (an episode's
        steps) and the weights are unchanged."""
        assert self.slots is not None
        bb = self.backbone
        key = (
            batch.input_ids.numpy().tobytes(),
            batch.attention_mask.numpy().tobytes(),
            tuple(batch.input_ids.shape),
            self.precision,
            sum(p._version for p in self.parameters()),  # bumped by every in-place update
        )
        if self._prompt_cache is None or self._prompt_cache[0] != key:
            self._prompt_cache = (key, bb.prompt_cache(batch.input_ids, batch.attention_mask))
        cache = copy.deepcopy(self._prompt_cache[1])  # extend grows the LM's cache in place
        B, S = len(batch), self.slots.num_slots
        queries = self.slots.queries[None].expand(B, -1, -1).to(image_embeds.dtype)  # (B, S, E)
        x = torch.cat([image_embeds.to(queries.dtype), queries], dim=1)  # (B, N + S, E)
        logits, _ = bb.extend(x, cache, bidirectional=S, logits_last=S)  # (B, S, V)
        return logits

    def _slot_hidden(
        self,
        image_embeds: torch.Tensor,
        ids: torch.Tensor,
        mask: torch.Tensor,
        image_mask: torch.Tensor | None,
        groups: torch.Tensor | None,
        prompt_len: int | None = None,
    ) -> torch.Tensor:
        """Hidden states (B, T, E) of text whose slot placeholders (ids < 0) take the learned
        slot queries and form attention group 2; ``groups`` (B, T) of the other positions."""
        assert self.slots is not None
        bb = self.backbone
        text = self.slots.embed(bb.embed_text(ids.clamp(min=0)), ids)  # (B, T, E)
        base = torch.zeros_like(ids) if groups is None else groups
        slot_groups = torch.where(ids < 0, 2, base)
        return bb.hidden(image_embeds, text, mask, image_mask, slot_groups, prompt_len)

    def act(
        self, image: np.ndarray, instruction: str, state: np.ndarray | None = None
    ) -> np.ndarray:
        """One observation -> one continuous action (D,)."""
        states = None if state is None else [state]
        return self.act_batch([image], [instruction], states=states).actions[0]

    @torch.inference_mode()
    def answer(
        self,
        images: Sequence[np.ndarray | None],
        prompts: Sequence[str],
        sampling: SamplingConfig | None = None,
    ) -> list[str]:
        """Free-text answers to VQA / caption / text-only prompts (whole vocabulary)."""
        samples = [TextSample(im, p, "") for im, p in zip(images, prompts, strict=True)]
        gen = self._generate(samples, ["text"] * len(samples), sampling)
        return [self.backbone.tokenizer.decode(t).strip() for t in gen.tokens]

    def _generate(
        self,
        samples: Sequence[Sample],
        modes: Sequence,
        sampling: SamplingConfig | None,
        batch: Batch | None = None,
    ) -> Generation:
        batch = batch if batch is not None else self.builder.prompts(samples)
        with self.autocast():
            return generate(
                self.backbone,
                batch.pixels,
                batch.image_mask,
                batch.input_ids,
                batch.attention_mask,
                modes,
                self.grammar,
                sampling or self.sampling,
                action_marker=self.prompt.action_prefix,
            )


def build_vla(
    backbone: str | VLMBackbone = "tiny",
    action_space: str | ActionSpace = "language_table",
    *,
    num_bins: int = 256,
    mapping: str = "reserved",
    corpus: Iterable[str] | None = None,
    token_ids: Sequence[int] | None = None,
    stats: dict[str, Any] | None = None,
    prompt: PromptFormat | None = None,
    precision: Precision = "float32",
    decoding: DecodingConfig | None = None,
    **backbone_options: Any,
) -> VLA:
    """Build a VLA by names: ``build_vla("tiny", "rt2", mapping="integers")``.

    ``stats`` (q01/q99 of the training actions) sets the bin bounds; ``corpus`` picks the
    ``reserved`` ids by frequency (default: the RT-2 prompt plus the backbone's
    :meth:`~rt2.backbones.VLMBackbone.reserved_corpus`).
    """
    bb = build_backbone(backbone, **backbone_options) if isinstance(backbone, str) else backbone
    space = ActionSpace.preset(action_space) if isinstance(action_space, str) else action_space
    act_tok = (
        ActionTokenizer.from_stats(space, stats, num_bins)
        if stats
        else ActionTokenizer(space, num_bins)
    )
    fmt = prompt or PromptFormat()
    if corpus is None:
        corpus = [
            fmt.robot_prompt("push the red star to the top left corner"),
            fmt.plan_text("x"),
            *bb.reserved_corpus(),
        ]
    token_mapping = build_mapping(
        mapping, bb.tokenizer, act_tok.num_values.tolist(), corpus=corpus, token_ids=token_ids
    )
    return VLA(bb, act_tok, token_mapping, fmt, precision=precision, decoding=decoding)


def _embed_dim(backbone: VLMBackbone) -> int:
    """Width of the backbone's image tokens (a camera embedding is added to them)."""
    with torch.no_grad():
        return int(backbone.embed_text(torch.zeros(1, 1, dtype=torch.long)).shape[-1])


def _embedding_scale(backbone: VLMBackbone) -> float:
    """Typical size of one coordinate of the backbone's token embeddings (slot queries start at
    that scale, so the LM sees them as ordinary inputs)."""
    with torch.no_grad():
        ids = torch.arange(min(1024, backbone.tokenizer.vocab_size))[None]  # (1, n)
        return float(backbone.embed_text(ids).float().std())
