"""What ``rt2 bench`` times: a bench case, its row of timings, and the cases of each table."""

from __future__ import annotations

from dataclasses import dataclass

from rt2.decoding.parallel import DecodingConfig

INSTRUCTION = "push the red star to the top left corner"
RT1_SPACE = "language_table"  # the shipped RT-1's action space (the tabletop's 2 dims)
MODELS = ("tiny", "rt2-mini", "rt1")  # rt1: the RT-1 baseline at rt1-tabletop sizes


@dataclass(frozen=True)
class BenchCase:
    model: str
    mapping: str
    precision: str
    batch: int
    space: str = "rt2"
    train: bool = False  # a training-throughput case
    decoding: str = "autoregressive"  # "parallel": every action token in one pass; RT-1 "one-pass"
    chunk: int = 1  # actions per model call (parallel decoding)
    compiled: bool = False  # torch.compile'd for acting (VLA.compile_for_inference), warmed up
    prompt_first: bool = False  # [prompt][image][slots]: the prompt's KV cache reused per step

    def decoding_config(self) -> DecodingConfig:
        return DecodingConfig(self.decoding, self.chunk)  # type: ignore[arg-type]


@dataclass
class BenchRow:
    case: BenchCase
    params: int
    tokens_per_action: int
    vision_ms: float
    prefill_ms: float
    decode_ms: float
    total_ms: float  # the whole act_batch call, incl. preprocessing and parsing

    @property
    def hz(self) -> float:
        """Control rate of one robot served alone (batch 1) or of each of ``batch`` robots."""
        return 1000.0 / self.total_ms

    @property
    def actions_per_s(self) -> float:
        """Actions produced per second over the whole batch (a chunk holds ``chunk``)."""
        return self.case.batch * self.case.chunk * 1000.0 / self.total_ms


def default_models() -> tuple[str, ...]:
    """tiny, plus rt2-mini when its SmolLM2 cache is ready (no 30 s conversion by surprise)."""
    try:
        from rt2.backbones.pretrained import cache_ready

        return ("tiny", "rt2-mini") if cache_ready() else ("tiny",)
    except ImportError:
        return ("tiny",)


def default_cases(
    batches: tuple[int, ...] = (1, 16),
    models: tuple[str, ...] = ("tiny",),
    compiled: bool = False,
) -> list[BenchCase]:
    """The inference rows ``rt2 bench`` times; ``compiled`` adds rt2-mini's bf16 rows run
    through ``torch.compile`` (autoregressive at batch 1, parallel with chunks 1 and 8, batch 1
    and batched; each compiles for ~1-3 min on 2 cores before it is timed)."""
    cases = []
    for model in models:
        if model not in MODELS:
            raise KeyError(f"unknown bench model {model!r}; known: {sorted(MODELS)}")
        if model == "tiny":
            cases += [
                BenchCase("tiny", mapping, precision, batch)
                for mapping in ("reserved", "integers")
                for precision in ("float32", "bfloat16")
                for batch in batches
            ]
        elif model == "rt1":  # the shipped configuration: one pass, no token mapping
            cases += [
                BenchCase("rt1", "classes", precision, batch, RT1_SPACE, decoding="one-pass")
                for precision in ("float32", "bfloat16")
                for batch in batches
            ]
        else:
            cases += _pretrained_cases(model, batches, compiled)
    return cases


def _pretrained_cases(model: str, batches: tuple[int, ...], compiled: bool) -> list[BenchCase]:
    """A pretrained VLA's rows: batch 1 (one robot), bf16 weights vs int8 LM."""
    cases = [
        BenchCase(model, mapping, precision, 1)
        for mapping in ("reserved", "integers")
        for precision in ("bfloat16", "int8")
    ]
    # every action token in one pass, one action or a chunk of 8; batch 1 and batched
    cases += [
        BenchCase(model, "reserved", precision, batch, decoding="parallel", chunk=chunk)
        for chunk in (1, 8)
        for precision in ("bfloat16", "int8")
        for batch in sorted({1, batches[-1]})
    ]
    # the tabletop's own action space: 2 dims ("X Y", RT-2's Language-Table format)
    cases += [
        BenchCase(model, "reserved", precision, 1, space="language_table")
        for precision in ("bfloat16", "int8")
    ]
    # the prompt's KV cache kept across calls (an episode's steps repeat the prompt)
    cases += [
        BenchCase(model, "reserved", p, 1, decoding="parallel", prompt_first=True)
        for p in ("bfloat16", "int8")
    ]
    if compiled:  # bf16 only: dynamically quantized int8 linears do not compile
        cases.append(BenchCase(model, "reserved", "bfloat16", 1, compiled=True))
        cases += [
            BenchCase(
                model,
                "reserved",
                "bfloat16",
                1,
                decoding="parallel",
                chunk=chunk,
                compiled=True,
                prompt_first=True,
            )
            for chunk in (1, 8)
        ]
        cases += [
            BenchCase(
                model,
                "reserved",
                "bfloat16",
                batch,
                decoding="parallel",
                chunk=chunk,
                compiled=True,
            )
            for chunk in (1, 8)
            for batch in sorted({1, batches[-1]})
        ]
    return cases


def training_cases(models: tuple[str, ...]) -> list[BenchCase]:
    """The training-throughput rows (forward + backward + AdamW) at batch 16."""
    cases = [
        BenchCase("tiny", "reserved", p, 16, train=True)
        for p in ("float32", "bfloat16")
        if "tiny" in models
    ]
    if "rt2-mini" in models:  # the presets' configuration: LoRA, frozen stride-16 trunk
        cases += [
            BenchCase("rt2-mini", "reserved", "bfloat16", 16, "language_table", train=True),
            BenchCase("rt2-mini", "reserved", "bfloat16", 16, "language_table", True, "parallel"),
        ]
    if "rt1" in models:  # RT-1 baseline (rt1-tabletop sizes), 6 frames per sample
        cases += [
            BenchCase("rt1", "classes", p, 16, RT1_SPACE, True, "one-pass")
            for p in ("float32", "bfloat16")
        ]
    return cases


def closed_loop_cases(batch: int, compiled: bool) -> list[BenchCase]:
    """rt2-mini's closed-loop rows: ``batch`` tabletop envs in lockstep, bf16, per decoding,
    chunk and prompt layout (``compiled`` adds the compiled prompt-first rows)."""
    variants = [("autoregressive", 1, False, False), ("parallel", 1, False, False),
                ("parallel", 8, False, False), ("parallel", 1, False, True)]  # fmt: skip
    if compiled:
        variants += [("parallel", 1, True, True), ("parallel", 8, True, True)]
    return [
        BenchCase("rt2-mini", "reserved", "bfloat16", batch, "language_table", False, *variant)
        for variant in variants
    ]
