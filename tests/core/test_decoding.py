import numpy as np
import pytest
import torch

from rt2.actions import ActionTokenizer
from rt2.backbones import TinyBackbone, TinyConfig
from rt2.decoding import SamplingConfig
from rt2.model import build_vla


@pytest.mark.parametrize("mapping", ["reserved", "integers"])
@pytest.mark.parametrize("space", ["rt2", "rt1", "language_table"])
def test_random_model_always_yields_valid_actions(small_vla, images, mapping, space):
    for seed in range(3):
        torch.manual_seed(seed)
        vla = small_vla(space, mapping)
        for sampling in (SamplingConfig(), SamplingConfig(temperature=3.0, seed=seed)):
            res = vla.act_batch(images, ["push the red star to the 3"] * 4, sampling=sampling)
            tok = vla.action_tokenizer
            assert res.bins.shape == (4, tok.dim)
            assert ((res.bins >= 0) & (res.bins < tok.num_values)).all()
            for text, bins in zip(res.texts, res.bins, strict=True):
                assert np.array_equal(tok.parse(text), bins)
            assert np.all((res.actions >= tok.space.low) & (res.actions <= tok.space.high))
            assert np.all((res.dim_probs > 0) & (res.dim_probs <= 1))


class Adversarial(TinyBackbone):
    """A tiny backbone whose logits push hard towards EOS, padding and plain letters."""

    def _bias(self, logits):
        bias = torch.zeros_like(logits)
        bias[:, [self.tokenizer.eos_id, self.tokenizer.pad_id, 3 + ord("x")]] = 1e4
        return logits + bias

    def prefill(self, *args, **kw):
        logits, cache = super().prefill(*args, **kw)
        return self._bias(logits), cache

    def decode_step(self, *args, **kw):
        logits, cache = super().decode_step(*args, **kw)
        return self._bias(logits), cache


@pytest.mark.parametrize("mapping", ["reserved", "integers"])
def test_grammar_holds_against_adversarial_logits(images, small_config, mapping):
    vla = build_vla(Adversarial(TinyConfig(**small_config)), "rt2", mapping=mapping)
    res = vla.act_batch(images, ["go"] * 4)
    ActionTokenizer(vla.action_space).check_bins(res.bins)
    assert len(set(res.texts)) >= 1 and all(len(t.split()) == 8 for t in res.texts)


class Scripted(TinyBackbone):
    """Emits a fixed token script (per row), whatever the input: for testing mode switches."""

    script: tuple[int, ...] = ()

    def _onehot(self, n: int, step: int) -> torch.Tensor:
        logits = torch.zeros(n, self.tokenizer.vocab_size)
        logits[:, self.script[min(step, len(self.script) - 1)]] = 50.0
        return logits

    def prefill(self, image_embeds, input_ids, attention_mask, image_mask=None):
        return self._onehot(input_ids.shape[0], 0), 1

    def decode_step(self, input_ids, cache, real=None):
        return self._onehot(input_ids.shape[0], cache), cache + 1


def scripted_vla(text: str, space: str = "language_table", **sampling):
    bb = Scripted(TinyConfig(image_size=64, pool=1, lm_layers=1, vision_layers=1))
    bb.script = (*bb.tokenizer.encode(text), bb.tokenizer.eos_id)
    vla = build_vla(bb, space, mapping="integers")
    vla.sampling = SamplingConfig(**sampling)
    return vla


def test_chain_of_thought_switches_to_actions_after_the_marker(images):
    vla = scripted_vla(" Plan: pick the apple. Action: 1 200 5")
    res = vla.act_batch(images[:2], ["I'm hungry"] * 2, cot=True)
    assert res.plans == [" Plan: pick the apple. Action:"] * 2
    assert res.texts == ["1 200"] * 2  # language_table has two values: dx dy; " 5" is cut off
    assert np.allclose(res.dim_probs, 1.0)


def test_chain_of_thought_forces_the_marker_when_the_plan_runs_on(images):
    vla = scripted_vla(" blah" * 50, max_new_tokens=12)
    res = vla.act_batch(images[:1], ["I'm hungry"], cot=True)
    assert res.plans[0].endswith(" Action:") and len(res.plans[0]) == 12 + len(" Action:")
    ActionTokenizer(vla.action_space).parse(res.texts[0])


def test_vqa_decodes_the_whole_vocabulary(images):
    vla = scripted_vla(" yellow")
    assert vla.answer([images[0], None], ["Q: what colour is the banana? A:"] * 2) == ["yellow"] * 2


def test_sampling_is_reproducible_with_a_seed(small_vla, images):
    torch.manual_seed(0)
    vla = small_vla()
    s = SamplingConfig(temperature=2.0, seed=7)
    a = vla.act_batch(images, ["go"] * 4, sampling=s).bins
    b = vla.act_batch(images, ["go"] * 4, sampling=s).bins
    assert np.array_equal(a, b)


def test_sampling_config_errors():
    with pytest.raises(ValueError, match="temperature must be >= 0, got -1"):
        SamplingConfig(temperature=-1)
