"""Typed, frozen training configuration and ``key=value`` overrides from the command line."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rt2.data.plan import PlanFormat
    from rt2.decoding.parallel import DecodingConfig

Precision = Literal["auto", "bf16", "fp32"]
ModelKind = Literal["vla", "rt1"]


@dataclass(frozen=True)
class ModelConfig:
    """What to train. ``bounds="stats"`` bins actions over the data's q01..q99 (OpenVLA).
    ``action_space``: a preset (``rt2``, ``rt1``, ``language_table``) or ``dataset``: the
    dataset's ``action`` feature (its names; ``action_space_options.gripper`` declares the
    gripper dims, else names containing "gripper" are)."""

    kind: ModelKind = "vla"
    backbone: str = "tiny"
    # the backbone's options as config.json stores them; checked against its frozen dataclass
    # (rt2.training.backbone_options; ``backbone_config()`` returns it)
    backbone_options: dict[str, Any] = field(default_factory=dict)
    action_space: str = "language_table"
    action_space_options: dict[str, Any] = field(default_factory=dict)
    num_bins: int = 256
    mapping: Literal["reserved", "integers"] = "reserved"
    bounds: Literal["stats", "fixed"] = "stats"
    init: str | None = None  # checkpoint directory whose weights start this run
    freeze: tuple[str, ...] = ()  # parameter-name prefixes kept frozen, e.g. "backbone.patch"
    history: int = 0  # earlier frames given with each robot sample (RT-1 uses 5 + the current)
    # "parallel": every action token of a chunk of ``chunk`` actions from one forward pass
    # (rt2.decoding.parallel); "autoregressive": token by token, as RT-2
    decoding: Literal["autoregressive", "parallel"] = "autoregressive"
    chunk: int = 1
    # > 0: add this times the grounding loss (cross-entropy over the image cells on the one that
    # shows the named thing: robot frames with plan states, web pointing); needs a backbone with
    # a grounding head (rt2-mini ``ground``)
    grounding_weight: float = 0.0
    # who writes a grounded plan (``data.plan_bins``) when acting: "lm", token by token; "head",
    # the grounding head's (arm, block, goal) positions, which the LM then reads (it is trained
    # on the true plans either way)
    plan_source: Literal["lm", "head"] = "lm"
    # actions of each chunk played per model call in closed loop (LeRobot's n_action_steps);
    # None: the whole chunk. ``rt2 eval --execute-steps`` overrides it
    execute_steps: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("vla", "rt1"):
            raise ValueError(f"model.kind: expected 'vla' or 'rt1', got {self.kind!r}")
        if self.bounds not in ("stats", "fixed"):
            raise ValueError(f"model.bounds: expected 'stats' or 'fixed', got {self.bounds!r}")
        if self.action_space == "dataset":
            if self.bounds != "stats":
                raise ValueError(
                    "model.action_space='dataset' bins over the data's q01..q99: it needs "
                    f"model.bounds='stats', got {self.bounds!r}"
                )
            unknown = set(self.action_space_options) - {"gripper"}
            if unknown:
                raise ValueError(
                    f"model.action_space_options: {sorted(unknown)} unknown for the dataset "
                    "space (known: gripper, the gripper dims' names or 'none')"
                )
        if self.mapping not in ("reserved", "integers"):
            raise ValueError(
                f"model.mapping: expected 'reserved' or 'integers', got {self.mapping!r}"
            )
        if self.history < 0:
            raise ValueError(f"model.history: expected >= 0, got {self.history}")
        if self.num_bins < 2:
            raise ValueError(f"model.num_bins: expected >= 2, got {self.num_bins}")
        ground = getattr(self.backbone_config(), "ground", False)  # validates the options
        if self.grounding_weight < 0 or (self.grounding_weight and not ground):
            raise ValueError(
                f"model.grounding_weight: expected >= 0, and > 0 only with "
                f"backbone_options.ground=true; got {self.grounding_weight} with "
                f"ground={ground}"
            )
        if self.plan_source not in ("lm", "head") or (self.plan_source == "head" and not ground):
            raise ValueError(
                f"model.plan_source: expected 'lm' or 'head', and 'head' only with "
                f"backbone_options.ground=true; got {self.plan_source!r} with ground={ground}"
            )
        if self.execute_steps is not None and not 1 <= self.execute_steps <= self.chunk:
            raise ValueError(
                f"model.execute_steps: expected None or 1..chunk ({self.chunk}), "
                f"got {self.execute_steps}"
            )
        from rt2.decoding.parallel import DecodingConfig

        try:
            DecodingConfig(self.decoding, self.chunk)  # type: ignore[arg-type]
        except ValueError as err:
            raise ValueError(f"model.decoding / model.chunk: {err}") from None

    def backbone_config(self) -> Any:
        """``backbone_options`` as the backbone's frozen options dataclass (RT-1: an
        ``RT1Config`` with ``frames = history + 1``; None for an unchecked plugin backbone)."""
        from rt2.training.backbone_options import typed_options

        return typed_options(self.kind, self.backbone, self.backbone_options, self.history)

    def decoding_config(self) -> DecodingConfig:
        from rt2.decoding.parallel import DecodingConfig

        return DecodingConfig(self.decoding, self.chunk)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DataConfig:
    """Where samples come from and in what proportion (RT-2-PaLI-X used ~50% robot data)."""

    weights: dict[str, float] = field(default_factory=lambda: {"robot": 0.5, "web": 0.5})
    web_size: int = 20000  # items of the synthetic web corpus
    # item kinds of the web corpus and their weights, e.g. {"pointing": 0.2, "scene_vqa": 0.3};
    # empty: rt2.data.web's default mix
    web_weights: dict[str, float] = field(default_factory=dict)
    web_hold_out_knowledge: bool = False  # keep rt2.data.web.knowledge_eval_set() out of training
    # grounded chain of thought (ECoT): robot answers start with the expert's plan, "Plan: arm 16
    # 16, block 0 31, goal 24 8. Action: ...", positions on a plan_bins grid; 0 turns it off
    plan_bins: int = 0
    # how plans and pointing answers write a cell: "digits" ("arm 16 16") or "letters" ("arm Q
    # Q": one token per coordinate, rt2.data.plan.LETTERS)
    plan_code: str = "digits"
    # True: the block as its offset from the arm, the goal from the block (PlanFormat.relative)
    plan_relative: bool = False
    # "tokens": robot prompts start with observation.state binned over its q01..q99 (pi0-FAST;
    # RT-1: one extra token of the current frame); "none": the model never sees the state
    state: str = "none"
    # the cameras (image features) a VLA sees, each in its own block of image tokens, in this
    # order; empty: every camera of the dataset in meta/info.json order (RT-1: the first)
    cameras: tuple[str, ...] = ()
    eval_episodes: int = 8  # robot episodes held out for the eval loss
    eval_samples: int = 64  # samples per source in each evaluation

    def __post_init__(self) -> None:
        if (
            not self.weights
            or any(w < 0 for w in self.weights.values())
            or sum(self.weights.values()) <= 0
        ):
            raise ValueError(
                f"data.weights: expected non-negative weights with a positive sum, got {self.weights}"
            )
        unknown = set(self.weights) - {"robot", "web"}
        if unknown:
            raise ValueError(f"data.weights: unknown sources {sorted(unknown)}; known: robot, web")
        if self.plan_bins == 1 or not 0 <= self.plan_bins <= 1000:
            raise ValueError(
                f"data.plan_bins: expected 0 (no plan) or 2..1000, got {self.plan_bins}"
            )
        if len(set(self.cameras)) != len(self.cameras) or not all(self.cameras):
            raise ValueError(f"data.cameras: expected distinct camera names, got {self.cameras}")
        if self.state not in ("none", "tokens"):
            raise ValueError(f"data.state: expected 'none' or 'tokens', got {self.state!r}")
        if self.plan_code not in ("digits", "letters"):
            raise ValueError(
                f"data.plan_code: expected 'digits' or 'letters', got {self.plan_code!r}"
            )
        for name in ("web_size", "eval_episodes", "eval_samples"):
            if getattr(self, name) < 0:
                raise ValueError(f"data.{name}: expected >= 0, got {getattr(self, name)}")

    def uses(self, source: str) -> bool:
        return self.weights.get(source, 0.0) > 0

    def plan_format(self) -> PlanFormat | None:
        """The plan format robot answers are written with, or None without plans."""
        from rt2.data.plan import PlanFormat  # rt2.data imports pyarrow: load it on use

        if not self.plan_bins:
            return None
        return PlanFormat(
            bins=self.plan_bins,
            code=self.plan_code,  # type: ignore[arg-type]
            relative=self.plan_relative,
        )


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up then cosine decay to ``min_lr_ratio * lr``."""

    steps: int = 1000
    batch_size: int = 32  # per optimizer step, across processes and accumulation
    grad_accum: int = 1
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 50
    weight_decay: float = 0.01
    clip_grad: float = 1.0
    # end the run at this step while the schedule still spans ``steps`` (a truncated run of a
    # longer recipe: the ablation rows stop where the headline run passed the same samples)
    stop_at: int | None = None

    def __post_init__(self) -> None:
        if self.stop_at is not None and not 1 <= self.stop_at <= self.steps:
            raise ValueError(
                f"optim.stop_at: expected in [1, optim.steps={self.steps}], got {self.stop_at}"
            )
        for name in ("steps", "batch_size", "grad_accum"):
            if getattr(self, name) < 1:
                raise ValueError(f"optim.{name}: expected >= 1, got {getattr(self, name)}")
        if self.batch_size % self.grad_accum:
            raise ValueError(
                f"optim.batch_size {self.batch_size} must be a multiple of optim.grad_accum {self.grad_accum}"
            )
        if not self.lr > 0:
            raise ValueError(f"optim.lr: expected > 0, got {self.lr}")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ValueError(f"optim.min_lr_ratio: expected in [0, 1], got {self.min_lr_ratio}")
        if self.warmup_steps < 0:
            raise ValueError(f"optim.warmup_steps: expected >= 0, got {self.warmup_steps}")


@dataclass(frozen=True)
class TrainConfig:
    name: str = "custom"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    # "auto": bf16 mixed precision where this machine runs it natively, else fp32 (rt2.precision)
    precision: Precision = "auto"
    log_every: int = 10
    eval_every: int = 200
    save_every: int = 500
    keep_last: int = 2  # checkpoints kept on disk (the newest ones)
    # closed-loop success during training (the learning curve): every ``rollout_every`` steps
    # (0: never) run ``rollout_episodes`` episodes of ``rollout_suite``, seeds 10000 + i
    rollout_every: int = 0
    rollout_episodes: int = 50
    rollout_suite: str = "seen"

    def __post_init__(self) -> None:
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(
                f"precision: expected 'auto', 'bf16' or 'fp32', got {self.precision!r}"
            )
        for name in ("log_every", "eval_every", "save_every", "keep_last", "rollout_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")
        if self.rollout_every < 0:
            raise ValueError(f"rollout_every: expected >= 0, got {self.rollout_every}")
        if self.model.plan_source == "head" and not self.data.plan_bins:
            raise ValueError("model.plan_source='head' writes a plan: set data.plan_bins > 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return _build(cls, data, "")


# ---- overrides ----------------------------------------------------------------------------
def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise KeyError(f"unknown config field(s) {sorted(f'{where}{k}' for k in unknown)}")
    kwargs = {}
    for k, v in data.items():
        hint = hints[k]
        if dataclasses.is_dataclass(hint):
            kwargs[k] = _build(hint, v, f"{where}{k}.")
        elif typing.get_origin(hint) is tuple:
            kwargs[k] = tuple(v)
        else:
            kwargs[k] = v
    return cls(**kwargs)


def _dict_value(text: str, hint: Any) -> Any:
    """One value of a ``k:v,...`` override: a float for ``dict[str, float]``; otherwise JSON
    (``"2"`` -> 2, ``"true"`` -> True) or, failing that, the bare word (``efficientnet-lite0``)."""
    if hint is float:
        return float(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_value(text: str, hint: Any, key: str) -> Any:
    """Parse a command-line value for a field of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in ("none", "null", "") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse_value(text, inner[0], key)
    try:
        if hint is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
        if origin is Literal:
            match = [a for a in args if str(a) == text]
            if not match:
                raise ValueError(f"expected one of {list(args)}")
            return match[0]
        if hint is str:
            return text
        if origin is tuple:
            return tuple(p for p in text.split(",") if p)
        if origin is dict:
            if text.startswith("{"):
                return json.loads(text)
            value_hint = args[1] if len(args) == 2 else Any
            out = {}
            for part in filter(None, text.split(",")):
                k, _, v = part.partition(":")
                out[k] = _dict_value(v, value_hint) if v else None
            return out
    except (ValueError, json.JSONDecodeError) as err:
        raise ValueError(f"override {key}={text!r}: cannot parse as {hint} ({err})") from None
    raise ValueError(f"override {key}: unsupported field type {hint}")


def apply_overrides(config: Any, overrides: list[str]) -> Any:
    """``["optim.lr=3e-4", "data.weights=robot:0.7,web:0.3"]`` -> a new config."""
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r}: expected KEY=VALUE, e.g. optim.lr=3e-4")
        config = _override(config, key.split("."), text, key)
    return config


def _override(obj: Any, path: list[str], text: str, key: str) -> Any:
    names = {f.name: f for f in dataclasses.fields(obj)}
    head = path[0]
    if head not in names:
        import difflib

        close = difflib.get_close_matches(head, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"override {key!r}: {type(obj).__name__} has no field {head!r}{hint}")
    value = getattr(obj, head)
    if len(path) > 1:
        if not dataclasses.is_dataclass(value):
            raise KeyError(f"override {key!r}: {head!r} is not a section")
        return dataclasses.replace(obj, **{head: _override(value, path[1:], text, key)})
    hint = typing.get_type_hints(type(obj))[head]
    return dataclasses.replace(obj, **{head: _parse_value(text, hint, key)})
