import numpy as np
import pytest
import torch

from rt2.backbones import IGNORE_INDEX
from rt2.samples import PromptFormat, RobotSample, TextSample


def test_mixed_batch_masks_loss_to_answers(small_vla, images):
    vla = small_vla("rt2", "integers")
    tok = vla.backbone.tokenizer
    action = np.array([1, 0, 0, 0, 0, 0, 0, 1.0])
    samples = [
        RobotSample(images[0], "pick the coke can", action),
        TextSample(images[1], "Q: what colour is the banana? A:", "yellow"),
        TextSample(None, "Q: is a cola carbonated? A:", "yes"),
    ]
    batch = vla.collate(samples)
    assert batch.is_robot.tolist() == [True, False, False]
    assert batch.image_mask.tolist() == [True, True, False]
    ids, labels = batch.input_ids, batch.labels
    # row 0: the prompt is RT-2's and the labelled part is exactly " 1 128 ... 255" + EOS
    prompt = "Q: what action should the robot take to pick the coke can? A:"
    n_prompt = 1 + len(tok.encode(prompt))
    assert tok.decode(ids[0, :n_prompt].tolist()) == prompt
    answer = labels[0][labels[0] != IGNORE_INDEX].tolist()
    assert answer[-1] == tok.eos_id
    assert tok.decode(answer[:-1]) == " 1 128 128 128 128 128 128 255"
    assert (labels[0, :n_prompt] == IGNORE_INDEX).all()
    assert batch.action_bins[0].tolist() == [1, 128, 128, 128, 128, 128, 128, 255]
    assert batch.action_bins[1].tolist() == [-1] * 8
    # row 1: only " yellow" + EOS carries loss; padding carries none
    assert tok.decode(labels[1][labels[1] != IGNORE_INDEX].tolist()) == " yellow"
    assert (labels[batch.attention_mask == 0] == IGNORE_INDEX).all()


def test_chain_of_thought_answer(small_vla, images):
    vla = small_vla("rt2", "integers")
    tok = vla.backbone.tokenizer
    s = RobotSample(
        images[0], "I'm hungry", np.array([1, 0, 0, 0, 0, 0, 0, 1.0]), plan="pick rxbar chocolate"
    )
    labels = vla.collate([s]).labels[0]
    text = tok.decode(labels[labels != IGNORE_INDEX].tolist())
    assert text == " Plan: pick rxbar chocolate. Action: 1 128 128 128 128 128 128 255"


def test_prompts_are_left_padded(small_vla, images):
    vla = small_vla()
    batch = vla.builder.prompts(
        [RobotSample(images[0], "go"), RobotSample(images[1], "push the block far away")]
    )
    assert batch.attention_mask[:, -1].all() and batch.attention_mask[0, 0] == 0
    assert batch.labels is None


def test_bad_samples_raise(small_vla, images):
    vla = small_vla()
    with pytest.raises(ValueError, match="has no action"):
        vla.collate([RobotSample(images[0], "go")])
    with pytest.raises(ValueError, match="empty"):
        vla.collate([])
    with pytest.raises(ValueError, match="more than max_length"):
        vla.collate([TextSample(None, "x" * 1000, "y")])
    with pytest.raises(ValueError, match="instruction"):
        PromptFormat(robot="Q: what now? A:")


def test_loss_reports_action_token_accuracy(small_vla, images):
    vla = small_vla()
    batch = vla.collate([RobotSample(images[0], "go", np.array([0, 0, 0, 0, 0, 0, 0, 0.5]))])
    out = vla.loss(batch)
    assert torch.isfinite(out.loss) and 0.0 <= out.metrics["action_token_acc"] <= 1.0


def test_plan_of_inverts_plan_text():
    from rt2.samples import PromptFormat

    fmt = PromptFormat()
    for plan in ("pick the apple", "arm 1 2, block 3 4, goal 5 6"):
        assert fmt.plan_of(fmt.plan_text(plan)) == plan


def test_multi_turn_sample_labels_every_answer_and_no_question(small_vla, images):
    vla = small_vla()
    tok = vla.backbone.tokenizer
    s = TextSample(
        images[0],
        "Q: point to the apple. A:",
        "12 7",
        (("Q: what colour is the apple? A:", "red"), ("Q: how many toys? A:", "2")),
    )
    batch = vla.collate([s])
    ids, labels = batch.input_ids[0], batch.labels[0]
    labelled = labels[labels != IGNORE_INDEX].tolist()
    eos = tok.eos_id
    assert labelled.count(eos) == 3  # each answer ends in EOS
    answers = tok.decode([t for t in labelled if t != eos])
    assert answers == " 12 7 red 2"
    text = tok.decode(ids[batch.attention_mask[0].bool()].tolist())
    assert "what colour is the apple? A: red" in text and text.endswith("how many toys? A: 2")
    # the unlabelled real tokens are exactly BOS + the prompt + the two follow-up questions
    unlabelled = int(((labels == IGNORE_INDEX) & batch.attention_mask[0].bool()).sum())
    questions = [s.prompt, *(q for q, _ in s.turns)]
    assert unlabelled == 1 + len(tok.encode(questions[0])) + sum(
        len(tok.encode(" " + q)) for q in questions[1:]
    )


def test_prefix_lm_prefix_stops_at_the_first_answer(small_vla, images):
    """Under prefix-LM a follow-up question must stay causal: in the prefix it would read the
    first answer and pass it back to that answer's own predictions."""
    vla = small_vla(prefix_lm=True)
    s = TextSample(images[0], "Q: point to the apple. A:", "12 7", (("Q: colour? A:", "red"),))
    batch = vla.collate([s])
    groups = vla.backbone.text_groups(batch.attention_mask, batch.labels)[0]
    first = int((batch.labels[0] != IGNORE_INDEX).nonzero()[0])
    assert groups[:first].all() and not groups[first:].any()
    # the first answer's logits do not change when a later answer does
    other = TextSample(images[0], s.prompt, s.answer, (("Q: colour? A:", "blue"),))
    vla.eval()
    with torch.no_grad():
        a = vla.backbone(batch.pixels, batch.input_ids, batch.attention_mask, None, batch.labels)
        b2 = vla.collate([other])
        b = vla.backbone(b2.pixels, b2.input_ids, b2.attention_mask, None, b2.labels)
    n = len(vla.backbone.tokenizer.encode(" 12 7")) + 1  # the first answer and its EOS
    torch.testing.assert_close(a.answer_logits[:n], b.answer_logits[:n])
