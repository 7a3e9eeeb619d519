import numpy as np
import pytest
import torch

from rt2.backbones import ByteTokenizer, TinyConfig, available_backbones, build_backbone


def test_registry_lists_and_suggests():
    assert "tiny" in available_backbones()
    with pytest.raises(KeyError, match=r"known backbones: \[.*'tiny'.*Did you mean 'tiny'"):
        build_backbone("tinny")


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="lm_dim must be positive, got 0"):
        TinyConfig(lm_dim=0)
    with pytest.raises(ValueError, match="multiple of patch_size"):
        TinyConfig(image_size=100)


def test_byte_tokenizer_round_trip():
    tok = ByteTokenizer()
    text = "pousse la pomme vers le 3 — über"
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size == 3 + 256 + 256
    assert tok.decode([tok.bos_id, *tok.encode("a"), tok.vocab_size - 1]) == "a<extra_255>"


@pytest.fixture
def backbone():
    torch.manual_seed(0)
    return build_backbone("tiny", image_size=64, pool=1, lm_layers=2, vision_layers=1).eval()


def test_kv_cache_matches_full_forward_with_left_padding(backbone):
    pixels = backbone.preprocess_images(np.zeros((2, 80, 80, 3), np.uint8))  # resized to 64
    assert pixels.shape == (2, 3, 64, 64)
    ids = torch.randint(3, 200, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, :4] = 0  # left padding in row 1
    image_mask = torch.tensor([True, False])  # row 1 is text only
    with torch.no_grad():
        full = backbone(pixels, ids, mask, image_mask).logits  # (2, 12, V)
        logits, cache = backbone.prefill(
            backbone.embed_images(pixels), ids[:, :8], mask[:, :8], image_mask
        )
        steps = [logits]
        for t in range(8, 12):
            logits, cache = backbone.decode_step(ids[:, t : t + 1], cache)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), full[:, 7:], atol=1e-4)
    assert torch.isfinite(full).all()


def test_padding_does_not_change_real_logits(backbone):
    pixels = backbone.preprocess_images(np.zeros((1, 64, 64, 3), np.uint8))
    ids = torch.randint(3, 200, (1, 6))
    with torch.no_grad():
        plain = backbone(pixels, ids, torch.ones(1, 6, dtype=torch.long)).logits
        padded_ids = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], 1)
        padded_mask = torch.tensor([[1] * 6 + [0] * 3])
        padded = backbone(pixels, padded_ids, padded_mask).logits[:, :6]
    assert torch.allclose(plain, padded, atol=1e-5)


def test_text_only_rows_ignore_the_image(backbone):
    ids = torch.randint(3, 200, (2, 5))
    mask = torch.ones(2, 5, dtype=torch.long)
    a = backbone.preprocess_images(np.zeros((2, 64, 64, 3), np.uint8))
    b = backbone.preprocess_images(np.full((2, 64, 64, 3), 255, np.uint8))
    no_image = torch.tensor([False, False])
    with torch.no_grad():
        la = backbone(a, ids, mask, no_image).logits
        lb = backbone(b, ids, mask, no_image).logits
        lc = backbone(b, ids, mask).logits
    assert torch.allclose(la, lb, atol=1e-5)
    assert not torch.allclose(la, lc, atol=1e-3)


def test_too_long_sequences_raise(backbone):
    pixels = backbone.preprocess_images(np.zeros((1, 64, 64, 3), np.uint8))
    ids = torch.randint(3, 200, (1, backbone.max_positions))
    with pytest.raises(ValueError, match="exceeds max_positions"):
        backbone(pixels, ids, torch.ones_like(ids))


@pytest.mark.parametrize("stem", ["conv", "patch", "efficientnet-lite0"])
def test_image_content_is_not_drowned_by_positions_at_init(stem):
    """At init the patch features and the sin-cos positions have the same scale, so the image
    tokens carry the picture from step one (a std-0.02 conv stem once shrank pixels ~1000x, and
    the tiny VLA learned to ignore its images)."""
    torch.manual_seed(0)
    bb = build_backbone("tiny", pool=1, stem=stem)
    a, b = torch.rand(2, 1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        feats = bb.patch_norm(bb.patch(a).flatten(2).transpose(1, 2))  # (1, 64, Dv)
        ratio = feats.norm(dim=-1).mean() / bb.vision_pos.norm(dim=-1).mean()
        assert 0.5 < float(ratio) < 2.0
        if stem == "conv":  # He init keeps the signal through the stride-2 stack
            assert bb.patch(a).std() > 0.1 * a.std()
        # different pictures give clearly different image tokens
        ea, eb = bb.embed_images(a), bb.embed_images(b)
        assert float((ea - eb).norm() / ea.norm()) > 0.2


@pytest.fixture
def prefix_backbone():
    torch.manual_seed(0)
    return build_backbone(
        "tiny", image_size=64, pool=1, lm_layers=2, vision_layers=1, prefix_lm=True
    ).eval()


def _prefix_batch(backbone):
    pixels = backbone.preprocess_images(
        np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    )
    ids = torch.randint(3, 200, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 10:] = 0  # right padding in row 1 (training batches are right-padded)
    labels = ids.clone()
    labels[0, :8] = -100  # prompt of 8 tokens, answer of 4
    labels[1, :6] = -100  # prompt of 6, answer of 4, then padding
    labels[1, 10:] = -100
    return pixels, ids, mask, labels


def test_prefix_lm_lets_the_image_read_the_prompt_but_not_the_answer(prefix_backbone):
    bb = prefix_backbone
    pixels, ids, mask, labels = _prefix_batch(bb)
    n = bb.num_image_tokens
    with torch.no_grad():
        x, key_mask, pos = bb._inputs(bb.embed_images(pixels), ids, mask, None)
        prompt = mask.bool() & (labels == -100)
        prefix = torch.cat([key_mask[:, :n], prompt], 1)
        base, _ = bb._run(x, key_mask, pos, groups=prefix.long())
        later_prompt = x.clone()
        later_prompt[0, n + 7] += 1.0  # the last prompt token of row 0
        moved, _ = bb._run(later_prompt, key_mask, pos, groups=prefix.long())
        answer = x.clone()
        answer[0, n + 9] += 1.0  # an answer token of row 0
        kept, _ = bb._run(answer, key_mask, pos, groups=prefix.long())
    assert not torch.allclose(moved[0, :n], base[0, :n])  # image tokens see the whole prompt
    assert torch.allclose(moved[1], base[1])  # rows stay independent
    assert torch.allclose(kept[0, : n + 9], base[0, : n + 9], atol=1e-6)  # nothing sees ahead
    # the causal backbone's image tokens never see text
    causal, _ = bb._run(x, key_mask, pos)
    causal_moved, _ = bb._run(later_prompt, key_mask, pos)
    assert torch.allclose(causal[0, :n], causal_moved[0, :n], atol=1e-6)


def test_prefix_lm_decoding_matches_teacher_forcing(prefix_backbone):
    bb = prefix_backbone
    pixels, ids, mask, labels = _prefix_batch(bb)
    row = slice(0, 1)  # row 0: prompt 8 tokens, answer 4
    with torch.no_grad():
        full = bb(pixels[row], ids[row], mask[row], labels=labels[row], keep_logits=True).logits
        logits, cache = bb.prefill(bb.embed_images(pixels[row]), ids[row, :8], mask[row, :8])
        steps = [logits]
        for t in range(8, 11):
            logits, cache = bb.decode_step(ids[row, t : t + 1], cache)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), full[:, 7:11], atol=1e-4)
