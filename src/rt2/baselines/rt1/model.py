"""RT-1 (Brohan et al., 2022) in this framework: FiLM-EfficientNet -> TokenLearner -> Transformer.

Per sample: the current frame and ``frames - 1`` earlier ones, each encoded by the
instruction-conditioned (FiLM) EfficientNet-Lite0 into a feature map, projected by a 1x1 conv,
compressed by TokenLearner to ``tokens_per_frame`` tokens; the ``frames x tokens_per_frame``
tokens (+ learned positions) go through a decoder-only Transformer with block-causal attention
(a token sees its own frame and earlier ones); each frame's outputs, mean-pooled, give a
``num_bins``-way classification per action dimension (bins of :class:`rt2.actions.ActionTokenizer`;
logits of bins a dimension does not have, e.g. 2..255 for a terminate flag, are masked out).
With a state (``data.state=tokens``) the normalized robot state joins the current frame as
one more token. The policy acts on the current (last) frame's; training supervises every frame's, as RT-1's
``TransformerNetwork`` computes its action loss over all time steps of the window
(``history_loss``): six labels per window instead of one, at the cost of one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rt2.actions import ActionTokenizer
from rt2.actions.state import StateFormat
from rt2.baselines.rt1.config import RT1Config
from rt2.baselines.rt1.film import FiLMEfficientNet
from rt2.baselines.rt1.text import InstructionEncoder
from rt2.baselines.rt1.token_learner import TokenLearner
from rt2.model import LossOutput
from rt2.samples import RobotSample
from rt2.training.soft_bins import soft_bin_cross_entropy


@dataclass
class RT1Batch:
    pixels: torch.Tensor  # (B, F, 3, S, S) float in [-1, 1], oldest frame first
    text: torch.Tensor  # (B, E) instruction embeddings
    bins: torch.Tensor | None = None  # (B, D) long target bins of the current frame
    # (B, F - 1, D) target bins of the earlier frames, IGNORE where unknown; None: not trained
    history_bins: torch.Tensor | None = None
    state: torch.Tensor | None = None  # (B, S) normalized current state, for a model that reads it

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def to(self, device: torch.device | str) -> RT1Batch:
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return RT1Batch(
            self.pixels.to(device),
            self.text.to(device),
            move(self.bins),
            move(self.history_bins),
            move(self.state),
        )


IGNORE = -100  # target bin of a frame whose action is unknown (cross-entropy ignore_index)


@dataclass
class RT1Output:
    bins: np.ndarray  # (B, D) int64
    actions: np.ndarray  # (B, D) continuous actions (bin centres)
    dim_probs: np.ndarray  # (B, D) probability of each chosen bin


def stack_frames(image: np.ndarray, history: np.ndarray | None, frames: int) -> np.ndarray:
    """Current image (H, W, 3) + earlier frames (K, H, W, 3) -> exactly ``frames`` frames
    (F, H, W, 3), oldest first: the last ``frames - 1`` of the history, padded at the start
    with the oldest available frame (the episode's first frame, as the robot source does).
    Works on any per-frame array, e.g. actions (D,) + (K, D) -> (F, D)."""
    past = np.zeros((0, *np.shape(image)), np.uint8) if history is None else np.asarray(history)
    past = past[len(past) - (frames - 1) :] if frames > 1 else past[:0]
    seq = np.concatenate([past, np.asarray(image)[None]])  # (<=F, H, W, 3)
    if len(seq) < frames:
        seq = np.concatenate([np.repeat(seq[:1], frames - len(seq), axis=0), seq])
    return seq


def preprocess(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float (..., 3, S, S) in [-1, 1] (EfficientNet-Lite input)."""
    x = torch.as_tensor(np.asarray(images))
    if x.ndim < 4 or x.shape[-1] != 3:
        raise ValueError(f"expected images of shape (..., H, W, 3), got {tuple(x.shape)}")
    lead = x.shape[:-3]
    x = x.reshape(-1, *x.shape[-3:]).permute(0, 3, 1, 2).float().div_(255.0)  # (N, 3, H, W)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
    return x.sub_(0.5).div_(0.5).reshape(*lead, 3, size, size)


def block_causal_mask(frames: int, tokens: int, extra: int = 0) -> torch.Tensor:
    """(L, L) bool, True where attention is *blocked*: token i sees frames <= its own frame.
    ``extra`` tokens after the frames (the state token) belong to the last frame."""
    frame = torch.arange(frames * tokens) // tokens  # (L,)
    frame = torch.cat([frame, torch.full((extra,), frames - 1)])  # (L + extra,)
    return frame[None, :] > frame[:, None]


class RT1(nn.Module):
    """RT-1 over any :class:`~rt2.actions.ActionSpace` (through its :class:`ActionTokenizer`)."""

    def __init__(
        self,
        config: RT1Config,
        action_tokenizer: ActionTokenizer,
        vision_net: nn.Module | None = None,
        state: StateFormat | None = None,
    ) -> None:
        super().__init__()
        c = self.config = config
        self.action_tokenizer = action_tokenizer
        # the robot state as one extra token of the current frame (a linear map of the state
        # normalized over its q01..q99), seen by that frame's tokens only
        self.state_format = state
        self.state_proj = None if state is None else nn.Linear(state.size, c.d_model)
        self.num_bins = int(action_tokenizer.num_bins)
        self.dim = action_tokenizer.dim
        self.encoder = InstructionEncoder(c.text_encoder, c.text_dim)
        self.vision = FiLMEfficientNet(
            c.image_size, c.text_dim, c.film, c.frozen_blocks, vision_net, c.blocks
        )
        channels = c.vision_channels
        self.feature_norm = nn.LayerNorm(channels) if c.feature_norm else None
        self.project = nn.Conv2d(channels, c.d_model, kernel_size=1)
        cells = c.grid**2  # feature-map positions per frame
        self.spatial_pos = (
            nn.Parameter(torch.randn(1, cells, c.d_model) * 0.02) if c.spatial_pos else None
        )
        self.token_learner = TokenLearner(c.d_model, c.tokens_per_frame, c.token_learner_hidden)
        self.pos = nn.Parameter(torch.randn(1, c.num_tokens, c.d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            c.d_model, c.num_heads, c.ff_dim, c.dropout, activation="gelu",
            batch_first=True, norm_first=True,
        )  # fmt: skip
        self.transformer = nn.TransformerEncoder(layer, c.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, self.dim * self.num_bins)
        valid = (
            torch.arange(self.num_bins)[None, :]
            < torch.as_tensor(action_tokenizer.num_values)[:, None]
        )  # (D, num_bins)
        self.register_buffer("valid_bins", valid)
        extra = 0 if state is None else 1
        self.register_buffer("attn_mask", block_causal_mask(c.frames, c.tokens_per_frame, extra))
        self.precision = "float32"  # "bfloat16": autocast for inference (policies set it)

    # ---- interface shared with the VLA ----------------------------------------------------
    @property
    def action_space(self):
        return self.action_tokenizer.space

    def spec(self) -> dict[str, Any]:
        """Everything besides weights needed to rebuild RT-1 (saved as ``vla.json``)."""
        spec = {
            "kind": "rt1",
            "action_tokenizer": self.action_tokenizer.to_dict(),
            "rt1": self.config.to_dict(),
        }
        if self.state_format is not None:
            spec["state"] = self.state_format.to_dict()
        return spec

    def pretrained_parameter_names(self) -> set[str]:
        return {f"vision.{n}" for n in self.vision.pretrained_parameter_names()}

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bfloat16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ---- batches --------------------------------------------------------------------------
    def _text(self, instructions: Sequence[str]) -> torch.Tensor:
        return torch.from_numpy(self.encoder.encode(list(instructions)))  # (B, E)

    def collate(self, samples: Sequence[RobotSample]) -> RT1Batch:
        """Robot samples (with ``history``) -> a training batch; text samples are rejected."""
        if not samples:
            raise ValueError("cannot collate an empty list of samples")
        bad = [type(s).__name__ for s in samples if not isinstance(s, RobotSample)]
        if bad:
            raise TypeError(
                f"RT-1 trains on robot samples only, got {bad[0]} (use data.weights=robot:1)"
            )
        if any(s.action is None for s in samples):
            raise ValueError("RT-1 collate: a robot sample has no action to learn")
        n = self.config.frames
        frames = np.stack([stack_frames(s.image, s.history, n) for s in samples])
        actions = np.stack([self._frame_actions(s) for s in samples])  # (B, F, D), NaN unknown
        known = np.isfinite(actions).all(-1)  # (B, F)
        bins = np.full(actions.shape, IGNORE, np.int64)
        bins[known] = self.action_tokenizer.encode(actions[known])
        return RT1Batch(
            pixels=preprocess(frames, self.config.image_size),  # (B, F, 3, S, S)
            text=self._text([s.instruction for s in samples]),
            bins=torch.as_tensor(bins[:, -1]),
            history_bins=torch.as_tensor(bins[:, :-1]) if self.config.history_loss else None,
            state=self._states([s.state for s in samples]),
        )

    def _states(self, states: Sequence[Any] | None) -> torch.Tensor | None:
        """(B, S) normalized states, or None for a model that does not read the state."""
        fmt = self.state_format
        if fmt is None:
            return None
        if states is None or any(s is None for s in states):
            raise ValueError(
                f"this RT-1 reads the robot state ({fmt.size} entries {list(fmt.names)}); "
                "the observation has none"
            )
        return torch.from_numpy(np.stack([fmt.normalize(s) for s in states]))

    def _frame_actions(self, s: RobotSample) -> np.ndarray:
        """The actions at a sample's F frames (F, D), as :func:`stack_frames` orders the frames;
        NaN rows where the sample has history frames without their actions."""
        action = np.asarray(s.action, dtype=np.float64)  # (D,)
        past = s.history_actions
        if past is None and s.history is not None:
            past = np.full((len(s.history), len(action)), np.nan)
        return stack_frames(action, None if past is None else np.asarray(past, np.float64),
                            self.config.frames)  # fmt: skip

    # ---- model ----------------------------------------------------------------------------
    def frame_tokens(self, pixels: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Frames (N, 3, S, S) + their instructions' embeddings (N, E) -> tokens (N, T, d).
        Each frame's tokens depend on that frame and the instruction only, so a policy can
        keep them from step to step instead of re-encoding its history."""
        feats = self.vision(pixels, text.to(pixels.dtype))  # (N, C, g, g)
        if self.feature_norm is not None:
            feats = self.feature_norm(feats.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        fmap = self.project(feats)  # (N, d, g, g)
        cells = fmap.flatten(2).transpose(1, 2)  # (N, g*g, d)
        if self.spatial_pos is not None:  # where each cell is (TokenLearner pools positions away)
            cells = cells + self.spatial_pos
        return self.token_learner(cells)  # (N, T, d)

    def frame_logits(
        self, tokens: torch.Tensor, last: bool = False, state: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Tokens (B, F, T, d), oldest frame first -> each frame's action logits
        (B, F, D, num_bins), invalid bins -inf; with ``last`` only the current frame's (B, D, NB).
        Block-causal: frame f's logits read frames <= f only; ``state`` (B, S), normalized,
        joins the current frame as one more token."""
        c = self.config
        B = tokens.shape[0]
        if tokens.shape[1:3] != (c.frames, c.tokens_per_frame):
            raise ValueError(
                f"RT-1 expects ({c.frames} frames, {c.tokens_per_frame} tokens) per sample, got "
                f"{tuple(tokens.shape[1:3])}"
            )
        x = tokens.reshape(B, c.num_tokens, c.d_model) + self.pos  # (B, F*T, d)
        if self.state_proj is not None:
            if state is None:
                raise ValueError("this RT-1 reads the robot state: pass it with the frames")
            token = self.state_proj(state.to(x.dtype))[:, None]  # (B, 1, d)
            x = torch.cat([x, token], dim=1)  # (B, F*T + 1, d)
        h = self.transformer(x, mask=self.attn_mask)  # (B, F*T [+ 1], d)
        h = h[:, : c.num_tokens].reshape(B, c.frames, c.tokens_per_frame, c.d_model)
        pooled = self.norm(h[:, -1:] if last else h).mean(dim=2)  # (B, F or 1, d)
        logits = self.head(pooled).float().view(B, -1, self.dim, self.num_bins)  # (B, F, D, NB)
        logits = logits.masked_fill(~self.valid_bins, float("-inf"))
        return logits[:, -1] if last else logits

    def logits_from_tokens(
        self, tokens: torch.Tensor, state: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Tokens (B, F, T, d), oldest frame first -> logits (B, D, num_bins), invalid bins -inf."""
        return self.frame_logits(tokens, last=True, state=state)

    def _tokens(self, pixels: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Pixels (B, F, 3, S, S) + text (B, E) -> per-frame tokens (B, F, T, d)."""
        B, n_frames = pixels.shape[:2]
        t = text.repeat_interleave(n_frames, dim=0)  # (B*F, E)
        tokens = self.frame_tokens(pixels.flatten(0, 1), t)  # (B*F, T, d)
        return tokens.view(B, n_frames, *tokens.shape[1:])

    def logits(
        self, pixels: torch.Tensor, text: torch.Tensor, state: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Pixels (B, F, 3, S, S) + text (B, E) -> logits (B, D, num_bins), invalid bins -inf."""
        return self.logits_from_tokens(self._tokens(pixels, text), state)

    def forward(self, batch: RT1Batch) -> LossOutput:
        """Training forward pass: the loss of a collated batch."""
        return self.loss(batch)

    def loss(self, batch: RT1Batch) -> LossOutput:
        """Mean cross-entropy over action dimensions (and, with ``history_bins``, over every
        frame with a known action), labels smoothed over ``bin_sigma`` bins; metrics: that loss,
        the current frame's plain cross-entropy (``action_loss``), its per-dimension bin
        accuracy (``action_token_acc``) and mean bins off (``action_bin_error``)."""
        if batch.bins is None:
            raise ValueError("loss needs a training batch (built with collate)")
        tokens = self._tokens(batch.pixels, batch.text)
        logits = self.frame_logits(tokens, state=batch.state)  # (B, F, D, NB)
        targets = batch.bins[:, None]  # (B, 1, D)
        if batch.history_bins is not None:
            targets = torch.cat([batch.history_bins, targets], dim=1)  # (B, F, D)
        trained = logits[:, -targets.shape[1] :]  # (B, F', D, NB)
        valid = self.valid_bins.expand_as(trained).reshape(-1, self.num_bins)
        loss = soft_bin_cross_entropy(
            trained.reshape(-1, self.num_bins), targets.reshape(-1), self.config.bin_sigma, valid
        )
        with torch.no_grad():
            now = logits[:, -1]  # (B, D, NB)
            now_loss = F.cross_entropy(now.reshape(-1, self.num_bins), batch.bins.reshape(-1))
            miss = (now.argmax(-1) - batch.bins).abs().float()  # (B, D) bins off
        metrics = {"loss": float(loss.detach()), "action_loss": float(now_loss),
                   "action_token_acc": float((miss == 0).float().mean()),
                   "action_bin_error": float(miss.mean())}  # fmt: skip
        return LossOutput(loss, metrics)

    def _output(self, logits: torch.Tensor) -> RT1Output:
        p, bins = logits.softmax(-1).max(-1)  # (B, D)
        b = self.action_tokenizer.check_bins(bins.numpy())
        return RT1Output(b, self.action_tokenizer.decode(b), p.float().numpy())

    @torch.inference_mode()
    def act_frames(
        self,
        frames: np.ndarray,
        instructions: Sequence[str],
        states: Sequence[np.ndarray] | None = None,
    ) -> RT1Output:
        """Frames (B, F, H, W, 3) uint8, oldest first + instructions (+ current states (B, S)
        for a model that reads them) -> greedy actions (B, D)."""
        frames = np.asarray(frames)
        if frames.ndim != 5 or len(frames) != len(instructions):
            raise ValueError(
                f"expected frames (B, F, H, W, 3) for {len(instructions)} instructions, "
                f"got {frames.shape}"
            )
        pixels = preprocess(frames, self.config.image_size)  # (B, F, 3, S, S)
        state = self._states(states)
        with self.autocast():
            return self._output(self.logits(pixels, self._text(instructions), state))

    @torch.inference_mode()
    def encode_frames(self, images: np.ndarray, instructions: Sequence[str]) -> torch.Tensor:
        """Images (N, H, W, 3) uint8 + instructions -> per-frame tokens (N, T, d) (float32)."""
        pixels = preprocess(np.asarray(images), self.config.image_size)  # (N, 3, S, S)
        with self.autocast():
            return self.frame_tokens(pixels, self._text(instructions)).float()

    @torch.inference_mode()
    def act_tokens(
        self, tokens: torch.Tensor, states: Sequence[np.ndarray] | None = None
    ) -> RT1Output:
        """Per-frame tokens (B, F, T, d), oldest first (+ current states) -> greedy actions."""
        state = self._states(states)
        with self.autocast():
            return self._output(self.logits_from_tokens(tokens, state))

    def act(
        self, frames: np.ndarray, instruction: str, state: np.ndarray | None = None
    ) -> np.ndarray:
        """One history (F, H, W, 3) -> one continuous action (D,)."""
        states = None if state is None else [state]
        return self.act_frames(np.asarray(frames)[None], [instruction], states).actions[0]
