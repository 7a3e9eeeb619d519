"""Shapes and invariants of each RT-1 part (tiny sizes, random inputs)."""

import numpy as np
import pytest
import torch

from rt2.actions import ActionSpace, ActionTokenizer
from rt2.backbones.pretrained import load_efficientnet_lite0
from rt2.baselines.rt1 import RT1, RT1Config, block_causal_mask, stack_frames
from rt2.baselines.rt1.film import FiLM, FiLMEfficientNet
from rt2.baselines.rt1.text import InstructionEncoder
from rt2.baselines.rt1.token_learner import TokenLearner
from rt2.samples import RobotSample, TextSample

from .conftest import TINY_RT1, random_frames


def tiny_rt1(space: str = "language_table", **kw) -> RT1:
    torch.manual_seed(0)
    return RT1(RT1Config(**{**TINY_RT1, **kw}), ActionTokenizer(ActionSpace.preset(space), 256))


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match=r"image_size.*100"):
        RT1Config(image_size=100)
    with pytest.raises(ValueError, match=r"d_model.*num_heads"):
        RT1Config(d_model=30, num_heads=4)
    with pytest.raises(ValueError, match=r"frozen_blocks.*17"):
        RT1Config(frozen_blocks=17)
    with pytest.raises(ValueError, match=r"text_encoder.*'use'"):
        RT1Config(text_encoder="use")


def test_film_identity_init_keeps_pretrained_features():
    torch.manual_seed(0)
    reference = load_efficientnet_lite0(64)
    film = FiLMEfficientNet(64, text_dim=384)
    assert all(torch.count_nonzero(f.proj.weight) == 0 for f in film.film if isinstance(f, FiLM))
    pixels = torch.rand(3, 3, 64, 64) * 2 - 1
    text = torch.randn(3, 384)
    with torch.no_grad():
        want = reference.extract_features(pixels)  # (3, 1280, 2, 2)
        got = film(pixels, text)
    assert got.shape == (3, 1280, 2, 2)
    assert torch.allclose(got, want, atol=1e-5)
    # once FiLM is trained, the instruction changes the features (so the test above can fail)
    with torch.no_grad():
        for f in film.film:
            f.proj.weight.normal_(0, 0.05)
        moved = film(pixels, text)
        other = film(pixels, torch.randn(3, 384))
    assert not torch.allclose(moved, want, atol=1e-3)
    assert not torch.allclose(moved, other, atol=1e-3)


def test_stride_16_features_are_the_trunks_block_10_map_at_init():
    from rt2.backbones.efficientnet_trunk import EfficientNetTrunk

    cfg = RT1Config(image_size=64, feature_stride=16)
    assert (cfg.blocks, cfg.vision_channels, cfg.grid) == (11, 112, 4)
    film = FiLMEfficientNet(64, text_dim=8, blocks=cfg.blocks)
    assert len(film.film) == 11 and not hasattr(film.net, "_conv_head")
    pixels = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        got = film(pixels, torch.randn(2, 8))
        want = EfficientNetTrunk(64, stride=16)(pixels)
    assert got.shape == (2, 112, 4, 4)
    assert torch.allclose(got, want, atol=1e-5)
    # the whole model takes the 4 x 4 map (16 cells with their own position codes)
    rt1 = tiny_rt1(feature_stride=16, frozen_blocks=8)
    assert rt1.spatial_pos.shape[1] == 16 and rt1.project.in_channels == 112
    with pytest.raises(ValueError, match=r"frozen_blocks.*0\.\.11.*feature_stride=16"):
        RT1Config(feature_stride=16, frozen_blocks=12)
    with pytest.raises(ValueError, match=r"feature_stride.*8"):
        RT1Config(feature_stride=8)


def test_frozen_blocks_have_no_film_and_no_grad():
    film = FiLMEfficientNet(64, text_dim=8, frozen_blocks=10)
    assert [isinstance(f, FiLM) for f in film.film] == [False] * 10 + [True] * 6
    frozen = {n for n, p in film.net.named_parameters() if not p.requires_grad}
    assert "_conv_stem.weight" in frozen and "_blocks.9._project_conv.weight" in frozen
    assert "_blocks.10._project_conv.weight" not in frozen and "_conv_head.weight" not in frozen
    film.train()
    assert not film.net.training  # BatchNorm keeps ImageNet statistics


def test_token_learner_shape_and_weights():
    torch.manual_seed(0)
    tl = TokenLearner(dim=16, num_tokens=8, hidden=8)
    x = torch.randn(5, 16, 16)  # (N, P, C)
    assert tl(x).shape == (5, 8, 16)
    same = torch.randn(2, 1, 16).expand(2, 16, 16)  # every position identical
    assert torch.allclose(tl(same), same[:, :8], atol=1e-5)  # convex combinations of positions


def test_block_causal_attention_over_history():
    mask = block_causal_mask(frames=3, tokens=2)
    assert mask.tolist()[0] == [False, False, True, True, True, True]
    assert not mask[-1].any()
    model = tiny_rt1().eval()
    c = model.config
    tokens = torch.randn(1, c.num_tokens, c.d_model)
    later = tokens.clone()
    later[:, -c.tokens_per_frame :] += torch.randn(c.tokens_per_frame, c.d_model)  # newest only
    earlier = tokens.clone()
    earlier[:, : c.tokens_per_frame] += torch.randn(c.tokens_per_frame, c.d_model)  # oldest only
    with torch.no_grad():
        run = lambda t: model.transformer(t, mask=model.attn_mask)  # noqa: E731
        base, with_later, with_earlier = run(tokens), run(later), run(earlier)
    past = slice(0, c.num_tokens - c.tokens_per_frame)
    assert torch.allclose(base[:, past], with_later[:, past], atol=1e-6)  # no peeking ahead
    last = slice(c.num_tokens - c.tokens_per_frame, None)
    assert not torch.allclose(base[:, last], with_earlier[:, last], atol=1e-4)  # history is used


@pytest.mark.parametrize(("space", "dims"), [("language_table", 2), ("rt2", 8), ("rt1", 11)])
def test_logits_shape_and_valid_bins_for_any_action_space(space, dims):
    model = tiny_rt1(space).eval()
    rng = np.random.default_rng(0)
    frames = random_frames(rng, 2 * 3).reshape(2, 3, 64, 64, 3)
    num_values = model.action_tokenizer.num_values
    with torch.no_grad():  # invalid bins get the largest logits, the last valid bin the next
        bias = model.head.bias.view(dims, 256)
        bias.copy_(torch.where(model.valid_bins, 0.0, 100.0))
        bias[torch.arange(dims), torch.as_tensor(num_values) - 1] = 50.0
        out = model.act_frames(frames, ["push the red star left", "x"])
    assert out.bins.shape == out.actions.shape == (2, dims)
    assert np.all(out.bins == num_values - 1)  # constrained to each dimension's valid bins
    logits = model.logits(
        torch.zeros(1, 3, 3, 64, 64), torch.zeros(1, model.config.text_dim)
    )  # (1, D, 256)
    assert logits.shape == (1, dims, 256)
    assert torch.isinf(logits[0, ~model.valid_bins]).all()
    assert torch.isfinite(logits[0, model.valid_bins]).all()


def test_stack_frames_pads_with_the_first_frame_and_keeps_the_newest():
    img = np.full((4, 4, 3), 9, np.uint8)
    hist = np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(4)])  # oldest first
    assert [f[0, 0, 0] for f in stack_frames(img, hist, 3)] == [2, 3, 9]
    assert [f[0, 0, 0] for f in stack_frames(img, hist[:1], 4)] == [0, 0, 0, 9]
    assert [f[0, 0, 0] for f in stack_frames(img, None, 3)] == [9, 9, 9]
    assert stack_frames(img, hist, 1).shape == (1, 4, 4, 3)


def test_collate_and_loss():
    model = tiny_rt1()
    rng = np.random.default_rng(0)
    samples = [
        RobotSample(random_frames(rng, 1)[0], "push it", rng.uniform(-0.05, 0.05, 2),
                    history=random_frames(rng, 2))
        for _ in range(3)
    ]  # fmt: skip
    batch = model.collate(samples)
    assert batch.pixels.shape == (3, 3, 3, 64, 64) and batch.text.shape == (3, 384)
    assert batch.bins.shape == (3, 2) and batch.pixels.min() >= -1 and batch.pixels.max() <= 1
    out = model(batch)
    assert out.loss.ndim == 0 and 0 <= out.metrics["action_token_acc"] <= 1
    assert abs(out.metrics["loss"] - np.log(256)) < 1.0  # near uniform at init
    with pytest.raises(TypeError, match="robot samples only"):
        model.collate([TextSample(None, "q", "a")])


def test_every_frame_is_supervised_and_frames_only_see_the_past():
    """RT-1's loss covers all frames of the window (history_loss); frame f's logits do not
    depend on later frames; a history without its actions trains the current frame only."""
    model = tiny_rt1()
    rng = np.random.default_rng(1)
    actions = rng.uniform(-0.05, 0.05, (3, 2))  # 2 past actions + the current one
    sample = RobotSample(random_frames(rng, 1)[0], "push it", actions[2],
                         history=random_frames(rng, 2), history_actions=actions[:2])  # fmt: skip
    batch = model.collate([sample])
    tok = model.action_tokenizer
    assert batch.history_bins.shape == (1, 2, 2)
    assert np.array_equal(batch.history_bins[0].numpy(), tok.encode(actions[:2]))
    assert np.array_equal(batch.bins[0].numpy(), tok.encode(actions[2:])[0])
    unknown = model.collate(
        [RobotSample(sample.image, "push it", actions[2], history=sample.history)]
    )
    assert (unknown.history_bins == -100).all() and torch.equal(unknown.bins, batch.bins)

    model.eval()
    with torch.no_grad():
        tokens = model._tokens(batch.pixels, batch.text)  # (1, F, T, d)
        logits = model.frame_logits(tokens)  # (1, F, D, NB)
        changed = tokens.clone()
        changed[:, -1] += 1.0  # a different current frame
        again = model.frame_logits(changed)
        assert torch.equal(logits[:, :-1], again[:, :-1]) and not torch.equal(logits, again)
        assert torch.allclose(model.frame_logits(tokens, last=True), logits[:, -1], atol=1e-6)
        full = model.loss(batch)
        only_now = model.loss(unknown)
    # the history-supervised loss averages more frames; without their actions it is the current one
    assert abs(only_now.metrics["loss"] - only_now.metrics["action_loss"]) < 1e-5
    assert abs(full.metrics["action_loss"] - only_now.metrics["action_loss"]) < 1e-5
    assert abs(full.metrics["loss"] - full.metrics["action_loss"]) > 1e-4
    smooth = tiny_rt1(bin_sigma=1.5).eval()
    with torch.no_grad():  # same weights (seed 0), labels spread over neighbouring bins
        assert (
            abs(
                smooth.loss(batch).metrics["action_loss"] - model.loss(batch).metrics["action_loss"]
            )
            < 1e-5
        )
        assert abs(smooth.loss(batch).metrics["loss"] - model.loss(batch).metrics["loss"]) > 1e-4
    with pytest.raises(ValueError, match="bin_sigma"):
        RT1Config(bin_sigma=-1.0)
    off = tiny_rt1(history_loss=False)
    assert off.collate([sample]).history_bins is None


def test_hash_encoder_caches_per_instruction():
    enc = InstructionEncoder("hash", dim=16)
    a = enc.encode(["a", "b", "a"])
    assert a.shape == (3, 16) and np.allclose(a[0], a[2]) and not np.allclose(a[0], a[1])
    enc.encode(["b", "a"])
    assert enc.encoder_calls == 2


def test_minilm_encoder_offline_with_disk_cache(tmp_path):
    texts = ["push the red star to the top left corner", "move the red star to the top left",
             "what is the capital of France"]  # fmt: skip
    enc = InstructionEncoder("minilm", cache_dir=tmp_path)
    e = enc.encode(texts)
    assert e.shape == (3, 384) and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-4)
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2  # a real sentence encoder: paraphrases are close
    again = InstructionEncoder("minilm", cache_dir=tmp_path)
    assert np.allclose(again.encode(texts[::-1]), e[::-1]) and again.encoder_calls == 0


def test_spatial_position_survives_token_learner():
    """Moving a feature to another cell changes the tokens only with ``spatial_pos``."""
    rng = np.random.default_rng(0)
    img = random_frames(rng, 1, size=128)[0]
    moved = np.roll(img, 64, axis=1)  # the same content, shifted by half the image
    for spatial_pos, differs in ((True, True), (False, None)):
        model = tiny_rt1(image_size=128, spatial_pos=spatial_pos).eval()
        cells = torch.randn(1, 16, model.config.d_model)
        perm = cells[:, torch.randperm(16)]
        with torch.no_grad():
            pos = model.spatial_pos if spatial_pos else 0.0
            a, b = model.token_learner(cells + pos), model.token_learner(perm + pos)
        if differs:
            assert not torch.allclose(a, b, atol=1e-5)
        else:  # permutation-invariant without positions
            assert torch.allclose(a, b, atol=1e-5)
    assert model.encode_frames(np.stack([img, moved]), ["x", "x"]).shape == (2, 4, 32)
