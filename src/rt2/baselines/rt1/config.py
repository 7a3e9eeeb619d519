"""``RT1Config``: the sizes of RT-1 (``ModelConfig.backbone_options`` of a ``kind="rt1"`` model)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

EFFNET_BLOCKS = 16  # MBConv blocks of EfficientNet-Lite0
# feature stride -> (MBConv blocks kept, channels out): the head's 1280 at stride 32, block 10's
# 112 at stride 16 (rt2.backbones.efficientnet_trunk.TRUNK_DEPTHS, without the conv head)
FEATURE_DEPTHS = {16: (11, 112), 32: (16, 1280)}


@dataclass(frozen=True)
class RT1Config:
    """RT-1 sizes. Paper values in brackets: 300 px images, 9x9 map -> 8 tokens per image,
    6 frames, 8 layers of width 512, 8 heads, 256 bins, USE (512-d) instructions."""

    image_size: int = 128  # pixels, a multiple of 32 [300]
    frames: int = 6  # current frame + history; = ModelConfig.history + 1 [6]
    tokens_per_frame: int = 8  # TokenLearner outputs per image [8]
    token_learner_hidden: int = 64  # TokenLearner MLP width
    d_model: int = 512  # Transformer width [512]
    num_layers: int = 8  # [8]
    num_heads: int = 8  # [8]
    ff_dim: int = 1024  # feed-forward width
    dropout: float = 0.1  # [0.1]
    film: bool = True  # FiLM-condition the image encoder on the instruction
    spatial_pos: bool = True  # learned position embedding per feature-map cell before TokenLearner
    feature_norm: bool = False  # LayerNorm over the EfficientNet channels of each cell
    frozen_blocks: int = 0  # first N MBConv blocks (and the stem) frozen, without FiLM (speed)
    # 32: the 1280-channel head map, 4 x 4 cells at 128 px; 16: block 10's 112-channel map,
    # 8 x 8 cells at 128 px, near the paper's 9 x 9 (300 px at stride 32) for a quarter of the
    # pixels (the head and last 5 blocks are dropped)
    feature_stride: Literal[16, 32] = 32
    # train every frame's action prediction (RT-1's loss over all time steps), not only the
    # current frame's; inference reads the current frame's either way
    history_loss: bool = True
    # Gaussian label smoothing over neighbouring bins, in bins (0: plain cross-entropy); bins are
    # ordinal, so a near miss is nearly right (rt2.training.soft_bins)
    bin_sigma: float = 0.0
    text_dim: int = 384  # instruction embedding size (all-MiniLM-L6-v2) [512, USE]
    text_encoder: Literal["minilm", "hash"] = (
        "minilm"  # "minilm" (pretrained) or "hash" (offline stand-in for tests)
    )

    def __post_init__(self) -> None:
        if self.image_size <= 0 or self.image_size % 32:
            raise ValueError(
                f"RT1Config.image_size: expected a positive multiple of 32, got {self.image_size}"
            )
        for name in ("frames", "tokens_per_frame", "token_learner_hidden", "d_model",
                     "num_layers", "num_heads", "ff_dim", "text_dim"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"RT1Config.{name}: expected >= 1, got {getattr(self, name)}")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"RT1Config.d_model: {self.d_model} is not divisible by num_heads={self.num_heads}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"RT1Config.dropout: expected in [0, 1), got {self.dropout}")
        if self.bin_sigma < 0:
            raise ValueError(f"RT1Config.bin_sigma: expected >= 0 bins, got {self.bin_sigma}")
        if self.feature_stride not in FEATURE_DEPTHS:
            raise ValueError(
                f"RT1Config.feature_stride: expected one of {sorted(FEATURE_DEPTHS)}, "
                f"got {self.feature_stride}"
            )
        if not 0 <= self.frozen_blocks <= self.blocks:
            raise ValueError(
                f"RT1Config.frozen_blocks: expected 0..{self.blocks} (MBConv blocks kept at "
                f"feature_stride={self.feature_stride}), got {self.frozen_blocks}"
            )
        if self.text_encoder not in ("minilm", "hash"):
            raise ValueError(
                f"RT1Config.text_encoder: expected 'minilm' or 'hash', got {self.text_encoder!r}"
            )

    @property
    def blocks(self) -> int:
        """MBConv blocks of EfficientNet-Lite0 the image encoder runs."""
        return FEATURE_DEPTHS[self.feature_stride][0]

    @property
    def vision_channels(self) -> int:
        """Channels of the feature map TokenLearner reads."""
        return FEATURE_DEPTHS[self.feature_stride][1]

    @property
    def grid(self) -> int:
        """Feature-map side: cells per row and column of each frame."""
        return self.image_size // self.feature_stride

    @property
    def num_tokens(self) -> int:
        """Transformer sequence length: frames x tokens per frame [48]."""
        return self.frames * self.tokens_per_frame

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
