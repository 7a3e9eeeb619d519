"""Knowledge and VQA scoring of a VLA: does it still answer web questions after robot training?

Two measures per question (both over the whole vocabulary, no action grammar):

- ``mc_acc``: multiple choice by answer log-likelihood, as lm-eval-harness does. Each candidate is
  scored as ``log p(" " + candidate + EOS | image, prompt)``; the best sum wins (``mc_acc``) and the
  best per-character mean wins (``mc_acc_norm``, lm-eval's ``acc_norm`` up to bytes vs chars).
  Candidates come from the eval data itself: ``yes``/``no`` for yes/no questions, the two options
  of "which is X, A or B?", otherwise every distinct answer of questions of the same template in
  the same set (all colours for colour questions, all rooms for room questions, ...).
- ``exact_match``: greedy free-text decoding with :meth:`VLA.answer`, normalised exact match. An
  instruction-tuned LM given the plain ``"Q: ... A:"`` prompt often stops at once, so this number
  can be near 0 while the model "knows" the answer; ``mc_acc`` separates the two.

Sets: ``knowledge`` (:func:`~rt2.data.web.knowledge_eval_set`, text only), ``vqa``
(:func:`~rt2.data.web.vqa_eval_set`, held-out pictures) and ``caption`` (held-out pictures with
their captions: multiple choice among all captions of the set is image-caption retrieval).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rt2.data.format import atomic_write
from rt2.data.web import WebCorpus, WebCorpusConfig, exact_match, knowledge_eval_set, vqa_eval_set
from rt2.decoding import SamplingConfig
from rt2.model import VLA
from rt2.samples import TextSample

SETS: tuple[str, ...] = ("knowledge", "vqa", "caption")
YES_NO: tuple[str, ...] = ("yes", "no")

# (question type, pattern on the question without "Q: " / " A:"); the first match wins
TEMPLATES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("colour", r"^what colou?r "),
        ("kind", r"^what kind of thing "),
        ("shape", r"^what shape "),
        ("room", r"^what room "),
        ("table_top", r"^what is the table top"),
        ("arithmetic", r" plus | minus |sum of|twice|comes after"),
        ("digit", r"as a digit|^what number "),
        ("translation", r"^what does '.+' mean in "),
        ("count", r"^how many "),
        ("location", r"^where is "),
        ("which_object", r"^which (object|logo|symbol|picture|flag|mark) "),
        ("what_is_at", r"^what is (at|in|on) "),
        ("what_is", r"^what is "),
        ("describe", r"^tell me "),
    )
)
_WHICH_OR = re.compile(r"^which is .+?, (.+) or (.+)\?$")


@dataclass(frozen=True)
class Question:
    """One scored question: its picture (or None), prompt, right answer, type and candidates."""

    image: np.ndarray | None
    prompt: str
    answer: str
    qtype: str
    candidates: tuple[str, ...]  # always contains ``answer``

    def __post_init__(self) -> None:
        if self.answer not in self.candidates:
            raise ValueError(
                f"question {self.prompt!r}: answer {self.answer!r} is not among its candidates "
                f"{list(self.candidates)}"
            )


@dataclass(frozen=True)
class KnowledgeEvalConfig:
    """Which sets to score, their sizes, the batch size and the free-text decoding length."""

    sets: tuple[str, ...] = SETS
    vqa_questions: int = 200
    captions: int = 20
    seed: int = 0
    batch_size: int = 16
    exact_match: bool = True
    max_new_tokens: int = 32
    limit: int | None = None  # score only the first N questions of each set (quick runs)

    def __post_init__(self) -> None:
        unknown = [s for s in self.sets if s not in SETS]
        if not self.sets or unknown:
            raise ValueError(
                f"KnowledgeEvalConfig.sets: expected a non-empty subset of {list(SETS)}, "
                f"got {list(self.sets)}"
            )
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"KnowledgeEvalConfig.limit: expected >= 1 or None, got {self.limit}")
        for name in ("vqa_questions", "captions", "batch_size", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"KnowledgeEvalConfig.{name}: expected >= 1, got {getattr(self, name)}"
                )


# ---- questions and candidate sets -----------------------------------------------------------
def question_text(prompt: str) -> str:
    """``"Q: is a lemon a fruit? A:"`` -> ``"is a lemon a fruit?"``."""
    return prompt.strip().removeprefix("Q:").removesuffix("A:").strip()


def question_type(prompt: str, answer: str) -> str:
    """The template of a question: ``yes_no``, ``which_or``, a :data:`TEMPLATES` name or
    ``other``."""
    if answer in YES_NO:
        return "yes_no"
    q = question_text(prompt)
    if _WHICH_OR.match(q):
        return "which_or"
    return next((name for name, pattern in TEMPLATES if pattern.search(q)), "other")


def build_questions(
    items: Iterable[tuple[np.ndarray | None, str, str]], qtype: str | None = None
) -> list[Question]:
    """(image, prompt, answer) items -> questions with candidates derived from the items: yes/no,
    the options named in the question, or every distinct answer of the same question type
    (``qtype``, when given, is the type of every item: all their answers are candidates)."""
    items = list(items)
    types = [qtype or question_type(p, a) for _, p, a in items]
    answers: dict[str, list[str]] = {}
    for (_, _, a), t in zip(items, types, strict=True):
        answers.setdefault(t, [])
        if a not in answers[t]:
            answers[t].append(a)
    out = []
    for (image, prompt, answer), t in zip(items, types, strict=True):
        if t == "yes_no":
            candidates: tuple[str, ...] = YES_NO
        elif t == "which_or":
            match = _WHICH_OR.match(question_text(prompt))
            assert match is not None
            candidates = match.groups()
        else:
            candidates = tuple(sorted(answers[t]))
        out.append(Question(image, prompt, answer, t, candidates))
    return out


def eval_questions(name: str, config: KnowledgeEvalConfig, image_size: int) -> list[Question]:
    """The questions of set ``name`` (see :data:`SETS`), pictures rendered at ``image_size``."""
    if name == "knowledge":
        return build_questions((None, p, a) for p, a in knowledge_eval_set())
    if name == "vqa":
        samples = vqa_eval_set(config.vqa_questions, config.seed, image_size)
    elif name == "caption":
        corpus = WebCorpus(
            WebCorpusConfig(
                size=config.captions,
                seed=config.seed,
                image_size=image_size,
                split="eval",
                weights={"caption": 1.0},
                cache_size=0,
            )
        )
        samples = [corpus[i] for i in range(config.captions)]
    else:
        raise ValueError(f"unknown question set {name!r}; known: {list(SETS)}")
    return build_questions(
        ((s.image, s.prompt, s.answer) for s in samples), "caption" if name == "caption" else None
    )


# ---- scoring ------------------------------------------------------------------------------
@torch.inference_mode()
def answer_logprobs(vla: VLA, rows: Sequence[TextSample]) -> np.ndarray:
    """``log p(" " + answer + EOS | image, prompt)`` of each row, summed over its tokens (B,)."""
    batch = vla.collate(rows)
    assert batch.labels is not None
    with vla.autocast():  # with labels: the prompt is a prefix-LM backbone's prefix, as in training
        out = vla.backbone(
            batch.pixels, batch.input_ids, batch.attention_mask, batch.image_mask, batch.labels
        )
    assert out.answer_logits is not None and out.answer_rows is not None
    logp = torch.log_softmax(out.answer_logits.float(), dim=-1)  # (M, V)
    picked = logp.gather(-1, out.answer_targets[:, None])[:, 0]  # (M,)
    total = torch.zeros(len(batch), dtype=torch.float64)
    return total.index_add_(0, out.answer_rows, picked.double()).numpy()


def score_questions(
    vla: VLA,
    questions: Sequence[Question],
    config: KnowledgeEvalConfig,
    advance: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """One record per question: candidate log-likelihoods, the picks and (optionally) the greedy
    answer. ``advance(n)`` is called after every ``n`` scored rows (for a progress bar)."""
    rows = [(i, c) for i, q in enumerate(questions) for c in q.candidates]
    scores = np.empty(len(rows))
    bs = config.batch_size
    for start in range(0, len(rows), bs):
        chunk = rows[start : start + bs]
        samples = [TextSample(questions[i].image, questions[i].prompt, c) for i, c in chunk]
        scores[start : start + len(chunk)] = answer_logprobs(vla, samples)
        if advance:
            advance(len(chunk))
    generated: list[str | None] = [None] * len(questions)
    if config.exact_match:
        sampling = SamplingConfig(max_new_tokens=config.max_new_tokens)
        for start in range(0, len(questions), bs):
            chunk = questions[start : start + bs]
            texts = vla.answer([q.image for q in chunk], [q.prompt for q in chunk], sampling)
            generated[start : start + len(chunk)] = texts
            if advance:
                advance(len(chunk))
    records, offset = [], 0
    for q, text in zip(questions, generated, strict=True):
        s = scores[offset : offset + len(q.candidates)]
        offset += len(q.candidates)
        lengths = np.array([len(" " + c) for c in q.candidates])
        pick, pick_norm = q.candidates[int(s.argmax())], q.candidates[int((s / lengths).argmax())]
        records.append(
            {
                "type": q.qtype,
                "prompt": q.prompt,
                "answer": q.answer,
                "image": q.image is not None,
                "candidates": list(q.candidates),
                "logprobs": [round(float(v), 4) for v in s],
                "mc_pick": pick,
                "mc_correct": pick == q.answer,
                "mc_norm_correct": pick_norm == q.answer,
                "generated": text,
                "exact_match": None if text is None else exact_match(text, q.answer),
            }
        )
    return records


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Accuracies with counts, overall and per question type; ``chance`` = mean 1/#candidates."""

    def block(rs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        n = len(rs)
        em = [r["exact_match"] for r in rs if r["exact_match"] is not None]
        return {
            "n": n,
            "mc_correct": sum(r["mc_correct"] for r in rs),
            "mc_acc": sum(r["mc_correct"] for r in rs) / n,
            "mc_acc_norm": sum(r["mc_norm_correct"] for r in rs) / n,
            "chance": sum(1 / len(r["candidates"]) for r in rs) / n,
            "exact_match_correct": sum(em) if em else None,
            "exact_match": sum(em) / len(em) if em else None,
            "empty_answers": sum(r["generated"] == "" for r in rs) if em else None,
        }

    if not records:
        raise ValueError("summarize: no records to summarize")
    types = sorted({r["type"] for r in records})
    return {
        "overall": block(records),
        "by_type": {t: block([r for r in records if r["type"] == t]) for t in types},
    }


def evaluate_knowledge(
    vla: VLA,
    config: KnowledgeEvalConfig | None = None,
    progress: bool = True,
    source: str = "",
) -> dict[str, Any]:
    """Score ``vla`` on the configured sets -> ``{"sets": {name: summary}, "questions": ...}``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    config = config or KnowledgeEvalConfig()
    vla.eval()
    questions = {
        s: eval_questions(s, config, vla.backbone.image_size)[: config.limit] for s in config.sets
    }
    result: dict[str, Any] = {
        "source": source,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(config).items()},
        "sets": {},
        "questions": {},
    }
    columns = (
        TextColumn("[bold]eval-knowledge[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not progress) as bar:
        for name, qs in questions.items():
            total = sum(len(q.candidates) for q in qs) + (len(qs) if config.exact_match else 0)
            task = bar.add_task(name, total=total)
            records = score_questions(vla, qs, config, lambda n, t=task: bar.advance(t, n))
            result["sets"][name] = summarize(records)
            result["questions"][name] = records
    return result


def write_json(result: dict[str, Any], path: str | Path) -> Path:
    """Atomically write ``result`` as indented JSON (NaN-free: empty metrics are ``null``)."""
    path = Path(path)
    text = json.dumps(result, indent=2, allow_nan=False)
    atomic_write(path, lambda p: p.write_text(text + "\n"))
    return path


def format_table(result: dict[str, Any]) -> list[tuple[str, str, int, str, str, str]]:
    """(set, type, n, mc_acc, chance, exact_match) rows for printing, overall rows first."""
    rows = []

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    for name, summary in result["sets"].items():
        for t, b in [("overall", summary["overall"]), *summary["by_type"].items()]:
            rows.append(
                (name, t, b["n"], pct(b["mc_acc"]), pct(b["chance"]), pct(b["exact_match"]))
            )
    return rows
