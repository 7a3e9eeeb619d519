"""The prompt-first layout ([prompt][image][answer]) and the prompt KV cache it allows."""

import numpy as np
import pytest
import torch

from rt2.backbones.tiny import TinyConfig
from rt2.decoding.parallel import DecodingConfig
from rt2.model import build_vla
from rt2.samples import RobotSample, TextSample

INSTRUCTIONS = ["push the red star", "push the big blue cube to the left"]  # left padding


def _vla(small_config, decoding="autoregressive", chunk=1):
    torch.manual_seed(0)
    return build_vla(
        "tiny", "rt2", decoding=DecodingConfig(decoding, chunk), prompt_first=True, **small_config
    )


def _samples(vla, images, chunk=1):
    rng = np.random.default_rng(0)
    space = vla.action_space
    return [
        RobotSample(images[i], ins, rng.uniform(space.low, space.high, (chunk, len(space.low))))
        for i, ins in enumerate(INSTRUCTIONS)
    ]


def test_prompt_first_refuses_prefix_lm():
    with pytest.raises(ValueError, match="prompt_first keeps the prompt causal"):
        TinyConfig(prompt_first=True, prefix_lm=True)


def test_training_batches_put_every_prompt_end_at_one_column(small_config, images):
    vla = _vla(small_config)
    batch = vla.collate([*_samples(vla, images), TextSample(None, "Q: what? A:", "a block")])
    P = batch.prompt_len
    assert P is not None and bool(batch.attention_mask[:, P - 1].all())  # the prompts' last
    assert (batch.labels[:, :P] == -100).all() and (batch.labels[:, P] != -100).all()


def test_decoding_matches_teacher_forcing_with_and_without_an_image(small_config, images):
    """prefill + decode steps give the teacher-forced logits: the first answer token is
    predicted from the last image position (rows with an image) or the prompt (text only)."""
    vla = _vla(small_config).eval()
    samples = [*_samples(vla, images), TextSample(None, "Q: is it red? A:", "yes it is")]
    batch = vla.collate(samples)
    bb, P = vla.backbone, batch.prompt_len
    with torch.no_grad():
        full = bb(
            batch.pixels, batch.input_ids, batch.attention_mask, batch.image_mask, batch.labels,
            keep_logits=True, prompt_len=P,
        ).logits  # fmt: skip
        prompts = vla.builder.prompts(samples)
        assert prompts.prompt_len == P  # the same prompts, left-padded the same way
        logits, cache = bb.prefill(
            bb.embed_images(prompts.pixels),
            prompts.input_ids,
            prompts.attention_mask,
            prompts.image_mask,
        )
        steps = [logits]
        for t in range(P, P + 3):
            logits, cache = bb.decode_step(batch.input_ids[:, t : t + 1], cache)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), full[:, P - 1 : P + 3], atol=1e-4)


def test_cached_prompt_slots_match_teacher_forcing_and_refresh(small_config, images):
    vla = _vla(small_config, "parallel", chunk=2).eval()
    samples = _samples(vla, images, chunk=2)
    S = vla.slots.num_slots
    with torch.no_grad():
        forced = vla.parallel_output(vla.collate(samples)).answer_logits.reshape(2, S, -1)
        prompts = vla.builder.prompts(samples)
        embeds = vla.backbone.embed_images(prompts.pixels)
        one_pass = vla.slot_logits(embeds, prompts)  # [prompt][image][slots] in one pass
        cached = vla.cached_slot_logits(embeds, prompts)
        key = vla._prompt_cache[0]
        again = vla.cached_slot_logits(embeds, prompts)  # the cache is kept, not grown
    assert torch.allclose(one_pass, forced, atol=1e-4)
    assert torch.allclose(cached, forced, atol=1e-4) and torch.equal(again, cached)
    assert vla._prompt_cache[0] == key
    with torch.no_grad():  # a weight update (in place, as an optimizer does) refreshes it
        vla.backbone.blocks[0].attn.qkv.weight.mul_(1.5)
        moved = vla.cached_slot_logits(embeds, prompts)
        fresh = vla.slot_logits(embeds, prompts)
    assert vla._prompt_cache[0] != key
    assert not torch.allclose(moved, cached, atol=1e-4) and torch.allclose(moved, fresh, atol=1e-4)


def test_prompt_first_parallel_vla_learns_and_acts_from_the_cache(small_config, images, fit):
    vla = _vla(small_config, "parallel", chunk=2)
    samples = _samples(vla, images, chunk=2)
    batch = vla.collate([*samples, TextSample(images[2], "Q: is it red? A:", "yes")])
    assert fit(vla, batch, 120)["action_token_acc"] == 1.0
    vla.eval()
    for _ in range(2):  # the second call reads the prompts' cache
        res = vla.act_batch(images[:2], INSTRUCTIONS)
        for i, s in enumerate(samples):
            want = vla.action_tokenizer.encode(s.action)
            assert np.array_equal(vla.action_tokenizer.encode(res.chunks[i]), want)
