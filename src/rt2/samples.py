"""Samples and the batch builder: robot demonstrations as VQA, mixed with ordinary VQA/captions.

A robot sample becomes ``prompt = "Q: what action should the robot take to {instruction}? A:"``
with the action tokens as the answer; a text sample keeps its own prompt and answer. The loss is
masked to answer tokens (and the closing EOS), so both kinds can share one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rt2.actions.mapping import TextTokenizer, TokenMapping
from rt2.actions.state import StateFormat
from rt2.actions.tokenizer import ActionTokenizer
from rt2.backbones.base import IGNORE_INDEX
from rt2.backbones.grounding import GROUND_TARGETS
from rt2.decoding.parallel import ActionSlots, slot_input_ids

ROBOT_PROMPT = "Q: what action should the robot take to {instruction}? A:"


@dataclass(frozen=True)
class PromptFormat:
    """How robot samples are written. ``plan_prefix``/``action_prefix`` are the chain-of-thought
    markers: the answer becomes ``" Plan: {plan}. Action:"`` followed by the action tokens."""

    robot: str = ROBOT_PROMPT
    plan_prefix: str = " Plan: "
    action_prefix: str = " Action:"
    state_prefix: str = "State:"  # robot prompts of a model that reads the state start with it

    def __post_init__(self) -> None:
        if "{instruction}" not in self.robot:
            raise ValueError(
                f"PromptFormat.robot must contain '{{instruction}}', got {self.robot!r}"
            )

    def robot_prompt(self, instruction: str) -> str:
        return self.robot.format(instruction=instruction.strip().rstrip("?.!"))

    def plan_text(self, plan: str) -> str:
        return f"{self.plan_prefix}{plan.strip().rstrip('.')}.{self.action_prefix}"

    def plan_of(self, text: str) -> str:
        """The plan inside decoded chain-of-thought text (the inverse of :meth:`plan_text`)."""
        inner = text.strip().removeprefix(self.plan_prefix.strip())
        return inner.removesuffix(self.action_prefix.strip()).strip(" .")


@dataclass(frozen=True)
class RobotSample:
    """One robot step: ``image`` (H, W, 3) uint8, or (C, H, W, 3) for a model that sees C
    cameras (in its camera order), instruction, ``action`` (D,) continuous, or (K, D) for a
    chunk of the next K actions (NaN rows after the episode's end)."""

    image: np.ndarray
    instruction: str
    action: np.ndarray | None = None  # None for prompts to act on
    plan: str | None = None  # chain-of-thought plan, e.g. "pick the apple"
    history: np.ndarray | None = None  # (K, H, W, 3) earlier frames, oldest first (RT-1 context)
    history_actions: np.ndarray | None = None  # (K, D) the actions taken at those frames
    state: np.ndarray | None = None  # (S,) proprioception, for models that read it
    # (K, 4) per GROUND_TARGETS: where the image shows it (u, v in [0, 1], u rightwards, v
    # downwards) and where it is on the table (x, y in half-extents); NaN rows unknown. The
    # grounding loss's targets (see :func:`ground_targets`)
    where: np.ndarray | None = None


@dataclass(frozen=True)
class TextSample:
    """A VQA / caption / text-only sample: ``image`` (H, W, 3) uint8 or None for text only.

    ``turns`` are follow-up ``(question, answer)`` pairs about the same image, written after the
    first answer (LLaVA-style multi-turn): one pass over the image's tokens teaches every answer.
    Only answers carry labels."""

    image: np.ndarray | None
    prompt: str
    answer: str
    turns: tuple[tuple[str, str], ...] = ()
    where: np.ndarray | None = None  # (K, 4) as RobotSample's: the first prompt's named thing


Sample = RobotSample | TextSample


def ground_targets(**known: tuple[float, float, float, float]) -> np.ndarray:
    """(K, 4) grounding targets: ``known[name] = (u, v, x, y)`` for names in
    :data:`GROUND_TARGETS`, NaN rows for the others."""
    out = np.full((len(GROUND_TARGETS), 4), np.nan, dtype=np.float32)
    for name, row in known.items():
        if name not in GROUND_TARGETS:
            raise ValueError(f"grounding target {name!r}: expected one of {GROUND_TARGETS}")
        out[GROUND_TARGETS.index(name)] = row
    return out


@dataclass
class Batch:
    pixels: torch.Tensor  # (B, 3, S, S) float
    image_mask: torch.Tensor  # (B,) bool, False for text-only rows
    input_ids: torch.Tensor  # (B, T) long
    attention_mask: torch.Tensor  # (B, T) long, 1 for real tokens
    labels: torch.Tensor | None  # (B, T) long, IGNORE_INDEX outside answers; None for prompts
    is_robot: torch.Tensor  # (B,) bool
    action_bins: torch.Tensor | None = None  # (B, D) long, -1 for non-robot rows
    # parallel decoding: (B, S) token id each action slot must read, IGNORE_INDEX where none
    slot_targets: torch.Tensor | None = None
    # prompt-first batches: prompts left-padded to this width, answers right-padded after it
    prompt_len: int | None = None
    # (B, K, 4) grounding targets (see RobotSample.where), NaN where unknown
    where: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def to(self, device: torch.device | str) -> Batch:
        return Batch(
            **{k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in vars(self).items()}
        )


class BatchBuilder:
    """Turns samples into padded tensors for a backbone with the given tokenizers."""

    def __init__(
        self,
        text_tokenizer: TextTokenizer,
        action_tokenizer: ActionTokenizer,
        mapping: TokenMapping,
        preprocess_images,  # Callable[[np.ndarray (B, H, W, 3)], torch.Tensor (B, 3, S, S)]
        image_size: int,
        prompt: PromptFormat | None = None,
        max_length: int | None = None,
        slots: ActionSlots | None = None,
        prompt_first: bool = False,
        state: StateFormat | None = None,
        cameras: tuple[str, ...] = (),
    ) -> None:
        self.slots = slots  # parallel decoding: robot answers end in the action slots
        self.prompt_first = prompt_first  # training rows: [left-padded prompt][answer]
        self.tok = text_tokenizer
        self.actions = action_tokenizer
        self.mapping = mapping
        self.preprocess = preprocess_images
        self.image_size = image_size
        self.prompt = prompt or PromptFormat()
        self.max_length = max_length
        self.state = state  # robot prompts start "State: <S bin tokens>" when set
        self.cameras = tuple(cameras)  # with two or more, robot images are (C, H, W, 3)
        self._state_codes: list[tuple[int, ...]] = []
        if state is not None:
            dim = int(np.argmax(mapping.num_values))  # the state bins use this dim's tokens
            if mapping.num_values[dim] < state.num_bins:
                raise ValueError(
                    f"the state has {state.num_bins} bins, the action mapping writes at most "
                    f"{mapping.num_values[dim]}"
                )
            self._state_codes = [mapping.value_ids(dim, k) for k in range(state.num_bins)]

    # ---- pieces ---------------------------------------------------------------------------
    def prompt_ids(self, sample: Sample) -> list[int]:
        if not isinstance(sample, RobotSample):
            return [self.tok.bos_id, *self.tok.encode(sample.prompt)]
        text = self.prompt.robot_prompt(sample.instruction)
        if self.state is None:
            return [self.tok.bos_id, *self.tok.encode(text)]
        return [self.tok.bos_id, *self.state_ids(sample.state), *self.tok.encode(" " + text)]

    def state_ids(self, state: np.ndarray | None) -> list[int]:
        """``"State:"`` then one bin token per state entry (a ValueError if it is missing or of
        the wrong size)."""
        assert self.state is not None
        if state is None:
            raise ValueError(
                f"this model reads the robot state ({self.state.size} entries "
                f"{list(self.state.names)}); the observation has none"
            )
        codes = [t for k in self.state.encode(state) for t in self._state_codes[k]]
        return [*self.tok.encode(self.prompt.state_prefix), *codes]

    def answer_ids(self, sample: RobotSample) -> tuple[list[int], np.ndarray]:
        """A robot sample's answer ids ending in EOS (with slots: ending in the slot
        placeholders) and its action bins (K, D) (-1 rows: no action at that step); text
        samples' answers come from :meth:`text_answer`."""
        if sample.action is None:
            raise ValueError(f"robot sample {sample.instruction!r} has no action to learn")
        steps = np.asarray(sample.action, dtype=np.float64).reshape(-1, self.actions.dim)
        chunk = self.slots.chunk if self.slots is not None else 1
        if len(steps) < chunk:
            raise ValueError(f"robot sample has {len(steps)} actions for a chunk of {chunk}")
        steps = steps[:chunk]  # (K, D)
        valid = ~np.isnan(steps).any(axis=1)
        if not valid[0]:
            raise ValueError(f"robot sample {sample.instruction!r}: its first action is NaN")
        bins = np.full(steps.shape, -1, dtype=np.int64)
        bins[valid] = self.actions.encode(steps[valid])
        plan = [] if sample.plan is None else self.tok.encode(self.prompt.plan_text(sample.plan))
        if self.slots is not None:
            return plan + slot_input_ids(self.slots.num_slots), bins
        return [*plan, *self.mapping.bins_to_ids(bins[0]), self.tok.eos_id], bins

    def text_answer(self, sample: TextSample) -> tuple[list[int], list[int]]:
        """A text sample's answer ids after its prompt (each answer ends in EOS; follow-up
        questions sit between them) and their labels (IGNORE_INDEX on the questions)."""
        ids = [*self.tok.encode(" " + sample.answer.strip()), self.tok.eos_id]
        labels = list(ids)
        for question, answer in sample.turns:
            q = self.tok.encode(" " + question.strip())
            a = [*self.tok.encode(" " + answer.strip()), self.tok.eos_id]
            ids += q + a
            labels += [IGNORE_INDEX] * len(q) + a
        return ids, labels

    def _views(self, sample: Sample) -> list[np.ndarray | None]:
        """A sample's images, one per camera the model sees (text samples: the first only)."""
        C = max(1, len(self.cameras))
        if C == 1:
            return [sample.image]
        if isinstance(sample, TextSample):
            return [sample.image] + [None] * (C - 1)
        views = np.asarray(sample.image)
        if views.ndim != 4 or len(views) != C:
            raise ValueError(
                f"this model sees {C} cameras {list(self.cameras)}; a robot sample's image has "
                f"shape {views.shape}, expected ({C}, H, W, 3)"
            )
        return list(views)

    def _images(self, samples: Sequence[Sample]) -> tuple[torch.Tensor, torch.Tensor]:
        """Pixels (B * C, 3, S, S), sample-major, and which rows have an image (B,)."""
        blank = np.zeros((self.image_size, self.image_size, 3), dtype=np.uint8)
        has = [s.image is not None for s in samples]
        imgs = [v if v is not None else blank for s in samples for v in self._views(s)]
        shapes = {np.shape(i) for i in imgs}
        if len(shapes) > 1:  # mixed sizes: resize each on its own
            pixels = torch.cat([self.preprocess(np.asarray(i)[None]) for i in imgs])
        else:
            pixels = self.preprocess(np.stack(imgs))
        return pixels, torch.tensor(has, dtype=torch.bool)

    def _check_length(self, n: int) -> None:
        if self.max_length is not None and n > self.max_length:
            raise ValueError(f"a sample has {n} tokens, more than max_length={self.max_length}")

    # ---- batches --------------------------------------------------------------------------
    def collate(self, samples: Sequence[Sample]) -> Batch:
        """Training batch: prompt + answer, right-padded, labels on the answer only."""
        if not samples:
            raise ValueError("cannot collate an empty list of samples")
        rows, label_rows, bins_rows, slot_rows = [], [], [], []
        num_slots = self.slots.num_slots if self.slots is not None else 0
        prompts = [self.prompt_ids(s) for s in samples]
        width = max(map(len, prompts)) if self.prompt_first else 0
        for s, p in zip(samples, prompts, strict=True):
            if isinstance(s, TextSample):
                a, labels = self.text_answer(s)
                bins = None
            else:
                a, bins = self.answer_ids(s)
                labels = [t if t >= 0 else IGNORE_INDEX for t in a]  # slot placeholders: none
            self._check_length(len(p) + len(a))
            pad = width - len(p) if self.prompt_first else 0  # prompts end at column `width`
            rows.append([self.tok.pad_id] * pad + p + a)
            label_rows.append([IGNORE_INDEX] * (pad + len(p)) + labels)
            bins_rows.append(bins[0] if bins is not None else np.full(self.actions.dim, -1))
            if self.slots is not None:
                slot_rows.append(
                    self.slots.targets(bins) if bins is not None else [IGNORE_INDEX] * num_slots
                )
        ids, mask = _pad(rows, self.tok.pad_id, left=False)
        labels, _ = _pad(label_rows, IGNORE_INDEX, left=False)
        if self.prompt_first:
            for i, p in enumerate(prompts):  # the prompt's left padding is not a real token
                mask[i, : width - len(p)] = 0
        batch = self._batch(samples, ids, mask, labels, np.stack(bins_rows))
        batch.prompt_len = width if self.prompt_first else None
        if self.slots is not None:
            batch.slot_targets = torch.tensor(slot_rows, dtype=torch.long)  # (B, S)
        return batch

    def prompts(self, samples: Sequence[Sample]) -> Batch:
        """Generation batch: prompts only, left-padded so every row ends at the last position."""
        if not samples:
            raise ValueError("cannot build prompts from an empty list of samples")
        rows = [self.prompt_ids(s) for s in samples]
        for r in rows:
            self._check_length(len(r))
        ids, mask = _pad(rows, self.tok.pad_id, left=True)
        batch = self._batch(samples, ids, mask, None, None)
        batch.prompt_len = ids.shape[1] if self.prompt_first else None
        return batch

    def _batch(
        self,
        samples: Sequence[Sample],
        ids: torch.Tensor,
        mask: torch.Tensor,
        labels: torch.Tensor | None,
        bins: np.ndarray | None,
    ) -> Batch:
        pixels, image_mask = self._images(samples)
        unknown = ground_targets()
        where = np.stack([unknown if s.where is None else s.where for s in samples])
        return Batch(
            pixels=pixels,
            image_mask=image_mask,
            input_ids=ids,
            attention_mask=mask,
            labels=labels,
            is_robot=torch.tensor([isinstance(s, RobotSample) for s in samples]),
            action_bins=None if bins is None else torch.as_tensor(bins, dtype=torch.long),
            where=torch.as_tensor(where, dtype=torch.float32),  # (B, K, 4)
        )


def _pad(rows: list[list[int]], value: int, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged rows -> (B, T) long tensor padded with ``value`` on the left or right, and its
    (B, T) mask of real positions."""
    T = max(len(r) for r in rows)
    out = torch.full((len(rows), T), value, dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for i, r in enumerate(rows):
        span = slice(T - len(r), T) if left else slice(0, len(r))
        out[i, span] = torch.tensor(r, dtype=torch.long)
        mask[i, span] = 1
    return out, mask
