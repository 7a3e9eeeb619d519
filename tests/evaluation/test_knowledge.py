"""Knowledge / VQA scoring: candidate sets, likelihood ranking, summaries, JSON and the CLI."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from rt2.backbones.base import BackboneOutput, answer_output
from rt2.cli import main
from rt2.data.web import knowledge_eval_set
from rt2.evaluation.knowledge import (
    KnowledgeEvalConfig,
    Question,
    answer_logprobs,
    build_questions,
    evaluate_knowledge,
    question_type,
    score_questions,
    summarize,
    write_json,
)
from rt2.model import VLA, build_vla
from rt2.samples import TextSample

HANDFUL = [
    "Q: is a lemon a fruit? A:",
    "Q: is a lemon a drink? A:",
    "Q: what colour is a banana? A:",
    "Q: what is two plus one? A:",
    "Q: which is a yellow fruit, a lemon or a cola can? A:",
    "Q: what kind of thing is an apple? A:",
]


@pytest.fixture(scope="module")
def vla() -> VLA:
    torch.manual_seed(0)
    return build_vla("tiny", "language_table", mapping="reserved").eval()


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    qs = build_questions((None, p, a) for p, a in knowledge_eval_set())
    by_prompt = {q.prompt: q for q in qs}
    return [by_prompt[p] for p in HANDFUL]


class ForcedBackbone(nn.Module):
    """Wraps a backbone: rows whose tokens are one of ``preferred`` get probability ~1 for each
    of their own next tokens; every other row keeps the wrapped model's logits."""

    def __init__(self, inner: nn.Module, preferred: set[tuple[int, ...]]) -> None:
        super().__init__()
        self.inner, self.preferred = inner, preferred

    def forward(self, pixels, input_ids, attention_mask, image_mask=None, labels=None):
        logits = self.inner(pixels, input_ids, attention_mask, image_mask).logits.clone()
        for r in range(input_ids.shape[0]):
            ids = input_ids[r][attention_mask[r].bool()].tolist()
            if tuple(ids) in self.preferred:
                for t in range(len(ids) - 1):
                    logits[r, t] = -1e4
                    logits[r, t, ids[t + 1]] = 1e4
        if labels is not None:  # as a backbone does: the head's outputs at the answers
            return answer_output(logits, labels, lambda x: x)
        return BackboneOutput(logits=logits, loss=None)


def forced(vla: VLA, pairs: list[tuple[str, str]]) -> VLA:
    """A copy of ``vla`` whose backbone prefers the given (prompt, answer) texts."""
    rows = vla.collate([TextSample(None, p, a) for p, a in pairs])
    preferred = {
        tuple(ids[m.bool()].tolist())
        for ids, m in zip(rows.input_ids, rows.attention_mask, strict=True)
    }
    out = VLA(vla.backbone, vla.action_tokenizer, vla.mapping, vla.prompt)
    out.backbone = ForcedBackbone(vla.backbone, preferred)  # type: ignore[assignment]
    return out


def test_question_types_and_candidate_sets():
    qs = {q.prompt: q for q in build_questions((None, p, a) for p, a in knowledge_eval_set())}
    assert len(qs) == len(knowledge_eval_set())
    assert all(q.answer in q.candidates and len(q.candidates) >= 2 for q in qs.values())
    lemon = qs["Q: is a lemon a fruit? A:"]
    assert (lemon.qtype, lemon.candidates, lemon.answer) == ("yes_no", ("yes", "no"), "yes")
    banana = qs["Q: what colour is a banana? A:"]
    assert banana.qtype == "colour" and banana.answer == "yellow"
    assert {"red", "green", "yellow", "orange"} <= set(banana.candidates)
    plus = qs["Q: what is two plus one? A:"]
    assert plus.qtype == "arithmetic" and plus.answer == "3"
    assert plus.candidates == tuple(str(d) for d in range(10))
    which = qs["Q: which is a yellow fruit, a lemon or a cola can? A:"]
    assert (which.qtype, which.candidates) == ("which_or", ("a lemon", "a cola can"))
    assert question_type("Q: what room is this? A:", "a kitchen") == "room"
    assert question_type("Q: is this a block? A:", "no") == "yes_no"
    assert question_type("Q: why? A:", "because") == "other"


def test_caption_type_pools_every_answer_and_bad_candidates_are_named():
    items = [(None, "Q: describe the image. A:", "a red apple"), (None, "Q: what? A:", "a cat")]
    qs = build_questions(items, "caption")
    assert [q.candidates for q in qs] == [("a cat", "a red apple")] * 2
    with pytest.raises(ValueError, match="answer 'yes' is not among its candidates"):
        Question(None, "Q: is it? A:", "yes", "yes_no", ("no", "maybe"))
    with pytest.raises(ValueError, match=r"sets: expected a non-empty subset .* got \['web'\]"):
        KnowledgeEvalConfig(sets=("web",))
    with pytest.raises(ValueError, match="batch_size: expected >= 1, got 0"):
        KnowledgeEvalConfig(batch_size=0)


def test_logprobs_are_the_training_loss_of_the_answer(vla):
    """Sum of answer-token log-probabilities == -(mean training loss) * answer tokens."""
    rows = [TextSample(None, "Q: is a lemon a fruit? A:", "yes")]
    got = float(answer_logprobs(vla, rows)[0])
    batch = vla.collate(rows)
    n = int((batch.labels >= 0).sum())  # " yes" + EOS
    with torch.no_grad():
        loss = float(vla.loss(batch).loss)
    assert n >= 2
    assert got == pytest.approx(-loss * n, rel=1e-4)


def test_forced_right_scores_one_and_contrary_scores_zero(vla, questions):
    config = KnowledgeEvalConfig(exact_match=False, batch_size=5)
    right = forced(vla, [(q.prompt, q.answer) for q in questions])
    wrong = forced(
        vla, [(q.prompt, next(c for c in q.candidates if c != q.answer)) for q in questions]
    )
    good = summarize(score_questions(right, questions, config))
    bad = summarize(score_questions(wrong, questions, config))
    assert good["overall"]["mc_acc"] == 1.0 and good["overall"]["mc_correct"] == len(questions)
    assert good["overall"]["mc_acc_norm"] == 1.0
    assert bad["overall"]["mc_acc"] == 0.0 and bad["overall"]["mc_acc_norm"] == 0.0
    assert good["by_type"]["yes_no"]["n"] == 2
    assert good["overall"]["exact_match"] is None  # not decoded


def test_records_and_summary_counts(vla, questions):
    ticks: list[int] = []
    config = KnowledgeEvalConfig(batch_size=4, max_new_tokens=3)
    records = score_questions(vla, questions, config, ticks.append)
    assert sum(ticks) == sum(len(q.candidates) for q in questions) + len(questions)
    for r, q in zip(records, questions, strict=True):
        assert len(r["logprobs"]) == len(q.candidates) and max(r["logprobs"]) < 0
        assert r["mc_pick"] in q.candidates and isinstance(r["generated"], str)
        assert isinstance(r["exact_match"], bool)
    s = summarize(records)
    assert s["overall"]["n"] == len(questions) == sum(b["n"] for b in s["by_type"].values())
    assert 0 <= s["overall"]["exact_match"] <= 1
    assert s["by_type"]["yes_no"]["chance"] == 0.5


def test_evaluate_writes_well_formed_json(vla, tmp_path):
    config = KnowledgeEvalConfig(
        sets=("vqa", "caption"), vqa_questions=3, captions=2, max_new_tokens=2
    )
    result = evaluate_knowledge(vla, config, progress=False, source="test")
    path = write_json(result, tmp_path / "sub" / "k.json")
    data = json.loads(path.read_text())
    assert set(data["sets"]) == {"vqa", "caption"}
    assert data["sets"]["vqa"]["overall"]["n"] == 3
    assert data["sets"]["caption"]["overall"]["chance"] == 0.5
    assert [r["image"] for r in data["questions"]["caption"]] == [True, True]
    assert data["config"]["sets"] == ["vqa", "caption"] and data["source"] == "test"


def test_cli_eval_knowledge(tmp_path):
    out = tmp_path / "k.json"
    argv = ["eval-knowledge", "--backbone", "tiny", "--sets", "vqa", "--vqa-questions", "2"]
    assert main([*argv, "--no-exact-match", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["source"] == "backbone:tiny" and data["sets"]["vqa"]["overall"]["n"] == 2
    assert data["sets"]["vqa"]["overall"]["exact_match"] is None
    with pytest.raises(SystemExit):
        main(["eval-knowledge", "--out", str(out)])  # needs --checkpoint or --backbone
    argv = ["eval-knowledge", "--backbone", "tiny", "--sets", "vqa,pointing", "--vqa-questions",
            "2", "--pointing-questions", "3", "--point-code", "letters"]  # fmt: skip
    assert main([*argv, "--no-exact-match", "--no-progress", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["sets"]["vqa"]["overall"]["n"] == 2
    assert data["pointing"]["summary"]["n"] == 3 and data["pointing"]["config"]["code"] == "letters"
