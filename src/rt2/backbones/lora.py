"""LoRA adapters (peft) for the Hugging Face language models inside rt2 backbones."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class LoraOptions:
    """``rank`` 0 disables LoRA; ``targets`` are module-name suffixes (``q_proj``) or one regex
    (a string starting with ``re:``) matched against full module names."""

    rank: int = 0
    alpha: float | None = None  # default 2 * rank
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.rank < 0:
            raise ValueError(f"LoraOptions.rank must be >= 0, got {self.rank}")
        if self.alpha is not None and self.alpha <= 0:
            raise ValueError(f"LoraOptions.alpha must be positive, got {self.alpha}")
        if self.rank and not self.targets:
            raise ValueError(f"LoraOptions.targets must name modules, got {self.targets!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"LoraOptions.dropout must be in [0, 1), got {self.dropout}")

    @property
    def enabled(self) -> bool:
        return self.rank > 0


def apply_lora(model: nn.Module, options: LoraOptions) -> nn.Module:
    """Wrap ``model`` with peft LoRA (base weights frozen, adapters trainable), or return it."""
    if not options.enabled:
        return model
    from peft import LoraConfig, get_peft_model

    targets: str | list[str] = list(options.targets)
    if len(options.targets) == 1 and options.targets[0].startswith("re:"):
        targets = options.targets[0][3:]
    config = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha or 2 * options.rank,
        target_modules=targets,
        lora_dropout=options.dropout,
        bias="none",
    )
    return get_peft_model(model, config)
