"""The Vision-Language-Action model: a backbone that writes actions as text tokens (RT-2).

``VLA`` = backbone + action tokenizer (bins) + token mapping (bins -> token ids) + prompt format.
Training is next-token prediction on answers (:meth:`VLA.loss`); acting decodes under the action
grammar (:meth:`VLA.act`); ordinary questions decode freely (:meth:`VLA.answer`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rt2.actions import ActionGrammar, ActionSpace, ActionTokenizer, TokenMapping, build_mapping
from rt2.backbones import VLMBackbone, build_backbone
from rt2.batching import Batch, BatchBuilder, PromptFormat, RobotSample, Sample, TextSample
from rt2.decoding import Generation, SamplingConfig, generate

Precision = Literal["float32", "bfloat16"]


@dataclass
class ActResult:
    actions: np.ndarray  # (B, D) continuous actions (bin centres)
    bins: np.ndarray  # (B, D) int bins
    dim_probs: np.ndarray  # (B, D) probability of each chosen value
    texts: list[str]  # (B,) the action strings, "1 128 91 ..."
    plans: list[str | None] = field(default_factory=list)  # chain-of-thought plans
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


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
        self.builder = BatchBuilder(
            backbone.tokenizer,
            action_tokenizer,
            mapping,
            backbone.preprocess_images,
            backbone.image_size,
            self.prompt,
            max_length=backbone.max_positions - backbone.num_image_tokens,
        )
        self._action_ids = torch.tensor(sorted(mapping.action_token_ids), dtype=torch.long)

    @property
    def action_space(self) -> ActionSpace:
        return self.action_tokenizer.space

    def spec(self) -> dict[str, Any]:
        """Everything besides weights needed to rebuild the action interface (json-able)."""
        return {
            "action_tokenizer": self.action_tokenizer.to_dict(),
            "mapping": self.mapping.to_dict(),
            "prompt": vars(self.prompt),
        }

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bfloat16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

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
            out = self.backbone(
                batch.pixels, batch.input_ids, batch.attention_mask, batch.image_mask, batch.labels
            )
        assert out.loss is not None
        with torch.no_grad():
            pred = out.logits[:, :-1].argmax(-1)  # (B, T-1)
            target = batch.labels[:, 1:]  # (B, T-1)
            is_action = torch.isin(target, self._action_ids) & batch.is_robot[:, None]
            n = int(is_action.sum())
            acc = float((pred == target)[is_action].float().mean()) if n else float("nan")
        return LossOutput(out.loss, {"loss": float(out.loss.detach()), "action_token_acc": acc})

    # ---- inference ----------------------------------------------------------------------
    @torch.inference_mode()
    def act_batch(
        self,
        images: Sequence[np.ndarray] | np.ndarray,
        instructions: Sequence[str],
        *,
        cot: bool = False,
        sampling: SamplingConfig | None = None,
    ) -> ActResult:
        """Images (B, H, W, 3) uint8 + instructions -> actions (B, D) under the action grammar."""
        if len(images) != len(instructions):
            raise ValueError(f"got {len(images)} images and {len(instructions)} instructions")
        samples = [
            RobotSample(np.asarray(im), ins) for im, ins in zip(images, instructions, strict=True)
        ]
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

    def act(self, image: np.ndarray, instruction: str) -> np.ndarray:
        """One observation -> one continuous action (D,)."""
        return self.act_batch([image], [instruction]).actions[0]

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
        self, samples: Sequence[Sample], modes: Sequence, sampling: SamplingConfig | None
    ) -> Generation:
        batch = self.builder.prompts(samples)
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
    return VLA(bb, act_tok, token_mapping, fmt, precision=precision)
