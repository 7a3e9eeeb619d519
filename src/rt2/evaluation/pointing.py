"""Pointing on held-out scenes: does a VLM find the thing a question names?

The VLM stage of rt2-mini v2 learns to answer ``"point to the red star."`` with the thing's cell
on the 32 x 32 plan grid (``"24 4"``, or ``"Y E"`` with the letters code). This scores greedy
answers on the web corpus's held-out split (its own pictures, never trained on): the share
within 0, 1 and 3 cells of the truth (Chebyshev distance on the grid), with Wilson intervals,
and the share of answers that are not a cell at all. A uniform guess lands within one cell
~0.9% of the time (9 of 1,024 cells), within three ~4.8%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rt2.data.plan import CODES, PlanFormat
from rt2.data.web import WebCorpus, WebCorpusConfig
from rt2.decoding import SamplingConfig
from rt2.evaluation.rates import wilson_interval
from rt2.model import VLA

RADII: tuple[int, ...] = (0, 1, 3)  # "within r cells"


@dataclass(frozen=True)
class PointingEvalConfig:
    """How many held-out pointing questions, their seed, the cell code and the batch size."""

    questions: int = 128
    seed: int = 0
    code: str = "digits"  # how the model writes a cell (its training run's data.plan_code)
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"PointingEvalConfig.code: expected one of {CODES}, got {self.code!r}")
        for name in ("questions", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"PointingEvalConfig.{name}: expected >= 1, got {getattr(self, name)}"
                )


def evaluate_pointing(vla: VLA, config: PointingEvalConfig | None = None) -> dict[str, Any]:
    """Greedy pointing answers on held-out scattered scenes -> a summary and one record per
    question."""
    config = config or PointingEvalConfig()
    grid = PlanFormat(code=config.code)  # type: ignore[arg-type]
    corpus = WebCorpus(
        WebCorpusConfig(
            size=config.questions,
            seed=config.seed,
            image_size=vla.backbone.image_size,
            split="eval",
            weights={"pointing": 1.0},
            point_code=config.code,
            cache_size=0,
        )
    )
    questions = [corpus[i] for i in range(config.questions)]
    vla.eval()
    sampling = SamplingConfig(max_new_tokens=8)
    records = []
    for start in range(0, len(questions), config.batch_size):
        chunk = questions[start : start + config.batch_size]
        answers = vla.answer([q.image for q in chunk], [q.prompt for q in chunk], sampling)
        for q, text in zip(chunk, answers, strict=True):
            truth, said = grid.parse_point(q.answer), grid.parse_point(text)
            assert truth is not None  # the corpus writes every answer in this code
            distance = (
                None if said is None else max(abs(a - b) for a, b in zip(said, truth, strict=True))
            )
            records.append(
                {"prompt": q.prompt, "answer": q.answer, "generated": text, "distance": distance}
            )
    return {"config": vars(config), "summary": summarize_pointing(records), "records": records}


def summarize_pointing(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, rates and 95% Wilson intervals of answers within each of :data:`RADII` cells."""
    n = len(records)
    if not n:
        raise ValueError("summarize_pointing: no records")
    out: dict[str, Any] = {"n": n}
    for r in RADII:
        k = sum(rec["distance"] is not None and rec["distance"] <= r for rec in records)
        low, high = wilson_interval(k, n)
        out[f"within_{r}"] = {"correct": k, "rate": k / n, "ci95": [low, high]}
    out["not_a_cell"] = sum(rec["distance"] is None for rec in records)
    out["chance_within_1"] = 9 / 1024
    return out
