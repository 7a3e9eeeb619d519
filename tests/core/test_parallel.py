"""Parallel action decoding (all slots in one pass) and action chunks."""

import numpy as np
import pytest
import torch

from rt2.backbones.base import visibility
from rt2.decoding.parallel import DecodingConfig
from rt2.model import build_vla
from rt2.samples import RobotSample, TextSample

PLAN = "arm 1 2, block 3 4, goal 5 6"


def _parallel(small_config, chunk=3, space="rt2", **kw):
    torch.manual_seed(0)
    return build_vla(
        "tiny", space, decoding=DecodingConfig("parallel", chunk), **{**small_config, **kw}
    )


def _chunk(rng, vla, k):
    space = vla.action_space
    return rng.uniform(space.low, space.high, (k, len(space.low)))


def test_groups_see_each_other_both_ways_and_nothing_else_changes():
    key_mask = torch.ones(1, 6, dtype=torch.bool)
    groups = torch.tensor([[1, 1, 0, 2, 2, 2]])  # prompt, answer token, three slots
    seen = visibility(key_mask, 6, groups)[0, 0]  # (Q, K)
    assert seen[0, 1] and not seen[0, 2]  # the prompt sees all of itself, not the answer
    assert not seen[1, 3]  # nothing sees a later slot
    assert seen[3, 5] and seen[5, 3] and seen[4, 0]  # slots see each other and what precedes
    assert torch.equal(visibility(key_mask, 6)[0, 0], torch.ones(6, 6).tril().bool())
    # queries are the last Q keys: one new slot block over a cache of 3
    tail = visibility(key_mask, 3, groups)[0, 0]  # (3, 6)
    assert tail.all()


@pytest.mark.parametrize("plan", [None, PLAN])
def test_slots_in_one_pass_match_teacher_forcing(small_config, images, plan):
    vla = _parallel(small_config).eval()
    rng = np.random.default_rng(0)
    instructions = ["push the red star", "push the big blue cube to the left"]  # left padding
    samples = [RobotSample(images[i], instructions[i], _chunk(rng, vla, 3), plan) for i in (0, 1)]
    batch = vla.collate(samples)
    with torch.no_grad():
        out = vla.parallel_output(batch)
    S = vla.slots.num_slots
    forced = out.answer_logits[-2 * S :].reshape(2, S, -1)  # the slots' logits, row by row
    # inference: prefill (+ the plan, here forced to the trained text) then one slot pass
    prompts = vla.builder.prompts(samples)
    bb = vla.backbone
    with torch.no_grad():
        _, cache = bb.prefill(
            bb.embed_images(prompts.pixels), prompts.input_ids, prompts.attention_mask
        )
        if plan is not None:
            for t in bb.tokenizer.encode(vla.prompt.plan_text(plan)):
                _, cache = bb.decode_step(torch.tensor([[t], [t]]), cache)
        queries = vla.slots.queries[None].expand(2, -1, -1)
        logits, _ = bb.extend(queries, cache, bidirectional=queries.shape[1])  # (2, S, V)
    assert torch.allclose(logits, forced, atol=1e-4)
    if plan is None:  # acting runs [image][prompt][slots] as one pass: the same logits
        with torch.no_grad():
            one_pass = vla.slot_logits(bb.embed_images(prompts.pixels), prompts)
        assert torch.allclose(one_pass, forced, atol=1e-4)
    # the slots read each other: changing one query changes the others' logits
    with torch.no_grad():
        moved = queries.clone()
        moved[:, -1] = torch.randn(moved.shape[-1])  # (LayerNorm would ignore a shift)
        other, _ = bb.extend(moved, cache, bidirectional=moved.shape[1])
    assert not torch.allclose(other[:, 0], logits[:, 0], atol=1e-5)


def test_parallel_vla_learns_chunks_and_its_plan(small_config, images, fit):
    vla = _parallel(small_config, chunk=3)
    rng = np.random.default_rng(1)
    chunks = [_chunk(rng, vla, 3) for _ in range(2)]
    chunks[1][2] = np.nan  # past the episode's end: no loss there
    samples = [RobotSample(images[i], f"push block {i}", chunks[i], PLAN) for i in (0, 1)]
    batch = vla.collate([*samples, TextSample(images[2], "Q: is it red? A:", "yes")])
    assert (batch.slot_targets[1, -vla.action_tokenizer.dim :] == -100).all()
    assert (batch.slot_targets[2] == -100).all()  # web rows have no slots
    assert fit(vla, batch, 150)["action_token_acc"] == 1.0
    vla.eval()
    res = vla.act_batch(images[:2], ["push block 0", "push block 1"], cot=True)
    assert res.chunks.shape == (2, 3, vla.action_tokenizer.dim)
    want = vla.action_tokenizer.encode(chunks[0])
    assert np.array_equal(vla.action_tokenizer.encode(res.chunks[0]), want)
    assert np.array_equal(res.bins[1], vla.action_tokenizer.encode(chunks[1][:1])[0])
    assert all(PLAN in p for p in res.plans)
    assert np.all((res.dim_probs > 0) & (res.dim_probs <= 1))


def test_untrained_parallel_actions_are_valid(small_config, images):
    vla = _parallel(small_config, chunk=2, space="language_table").eval()
    res = vla.act_batch(images, ["go"] * 4)
    tok = vla.action_tokenizer
    assert res.chunks.shape == (4, 2, 2) and res.bins.shape == (4, 2)
    assert ((res.bins >= 0) & (res.bins < tok.num_values)).all()
    assert np.all((res.chunks >= tok.space.low) & (res.chunks <= tok.space.high))


def test_parallel_decoding_needs_one_token_per_value(small_config):
    with pytest.raises(ValueError, match="one token per action value"):
        build_vla(
            "tiny", "rt2", mapping="integers", decoding=DecodingConfig("parallel"), **small_config
        )


def test_decoding_config_errors_name_the_problem():
    with pytest.raises(ValueError, match="needs mode='parallel'"):
        DecodingConfig("autoregressive", chunk=4)
    with pytest.raises(ValueError, match="expected one of"):
        DecodingConfig("beam")  # type: ignore[arg-type]
