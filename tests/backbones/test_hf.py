import numpy as np
import pytest
import torch

from rt2.backbones.hf import HFConfig
from rt2.decoding import SamplingConfig
from rt2.model import build_vla
from rt2.samples import RobotSample, TextSample

from .tiny_hf import BUILDERS

ARCHS = sorted(BUILDERS)


@pytest.fixture(scope="module", params=ARCHS)
def model_dir(request, tmp_path_factory):
    return str(BUILDERS[request.param](tmp_path_factory.mktemp(request.param)))


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match=r"HFConfig\.model must name"):
        HFConfig()
    with pytest.raises(ValueError, match=r"HFConfig\.dtype must be one of"):
        HFConfig(model="x", dtype="float16")  # type: ignore[arg-type]


def _batch(vla, rng):
    space = vla.action_space
    return vla.collate(
        [
            RobotSample(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), "push the red star",
                        rng.uniform(space.low, space.high)),
            RobotSample(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), "go left",
                        rng.uniform(space.low, space.high)),
            TextSample(None, "Q: what is on the table? A:", "a red block"),
        ]
    )  # fmt: skip


@pytest.mark.parametrize("mapping", ["reserved", "integers"])
def test_training_step_and_constrained_decoding(model_dir, mapping):
    torch.manual_seed(0)
    vla = build_vla("hf", "rt2", mapping=mapping, model=model_dir, freeze_vision=False)
    bb = vla.backbone
    assert bb.num_image_tokens > 0 and (bb.block_ids == bb.image_token_id).any()
    batch = _batch(vla, np.random.default_rng(0))
    opt = torch.optim.AdamW([p for p in vla.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(4):
        out = vla.loss(batch)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.metrics["loss"])
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    vla.eval()
    images = np.random.default_rng(1).integers(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    res = vla.act_batch(images, ["push the red star", "go"])
    assert res.bins.shape == (2, 8)
    assert ((res.bins >= 0) & (res.bins < np.array(vla.mapping.num_values))).all()
    short = SamplingConfig(max_new_tokens=4)
    answers = vla.answer([None, images[0]], ["Q: hi? A:", "Q: what is it? A:"], short)
    assert len(answers) == 2


def test_kv_cache_matches_full_forward(model_dir):
    torch.manual_seed(0)
    bb = build_vla("hf", "rt2", model=model_dir).backbone.eval()
    images = np.random.default_rng(0).integers(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    pixels = bb.preprocess_images(images)
    ids = torch.randint(20, 300, (2, 9))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, :2] = 0
    image_mask = torch.tensor([True, False])
    with torch.no_grad():
        full = bb(pixels, ids, mask, image_mask).logits
        other = bb(pixels.flip(0), ids, mask, image_mask).logits
        logits, cache = bb.prefill(bb.embed_images(pixels), ids[:, :5], mask[:, :5], image_mask)
        steps = [logits]
        for t in range(5, 9):
            logits, cache = bb.decode_step(ids[:, t : t + 1], cache)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), full[:, 4:], atol=1e-4)
    assert torch.allclose(full[1], other[1], atol=1e-5)  # text-only row ignores the image
    assert not torch.allclose(full[0], other[0], atol=1e-5)


def test_lora_trains_only_adapters_of_the_language_model(model_dir):
    bb = build_vla("hf", "rt2", model=model_dir, lora_rank=4).backbone
    names = [n for n, p in bb.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n for n in names)
    lm = {id(p) for p in bb._language_model_module().parameters()}
    assert all(id(p) in lm for p in bb.parameters() if p.requires_grad)
    frozen = build_vla("hf", "rt2", model=model_dir, freeze_lm=True).backbone
    assert not any(p.requires_grad for p in frozen.parameters())  # vision frozen by default


def test_parallel_chunk_decoding(model_dir):
    """All action slots of a chunk in one pass through an HF decoder: trains, and acting (one
    pass over [image][prompt][slots]) matches teacher forcing."""
    from rt2.decoding.parallel import DecodingConfig

    torch.manual_seed(0)
    vla = build_vla(
        "hf", "rt2", model=model_dir, freeze_vision=False, decoding=DecodingConfig("parallel", 2)
    )
    rng = np.random.default_rng(0)
    space = vla.action_space
    samples = [
        RobotSample(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), ins,
                    rng.uniform(space.low, space.high, (2, len(space.low))))
        for ins in ("push the red star", "go left")
    ]  # fmt: skip
    out = vla.loss(vla.collate([*samples, TextSample(None, "Q: what? A:", "a block")]))
    out.loss.backward()
    assert torch.isfinite(out.loss) and vla.slots.queries.grad is not None
    vla.eval()
    with torch.no_grad():
        forced = vla.parallel_output(vla.collate(samples)).answer_logits
        prompts = vla.builder.prompts(samples)
        one_pass = vla.slot_logits(vla.backbone.embed_images(prompts.pixels), prompts)
    assert torch.allclose(one_pass.reshape(forced.shape), forced, atol=1e-4)
    res = vla.act_batch([s.image for s in samples], [s.instruction for s in samples])
    assert res.chunks.shape == (2, 2, 8)


@pytest.mark.parametrize(
    "decoding, mode", [("autoregressive", "default"), ("parallel", "max-autotune")]
)
def test_compiled_acting_matches_eager(tmp_path, decoding, mode):
    """torch.compile'd acting (inductor, weights frozen in) gives eager's actions and logits,
    adds no state_dict keys and leaves nothing trainable; prompts of a new length still work."""
    from rt2.decoding.parallel import DecodingConfig

    torch.manual_seed(0)
    path = str(BUILDERS[ARCHS[0]](tmp_path))
    vla = build_vla("hf", "rt2", model=path, decoding=DecodingConfig(decoding)).eval()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    calls = [["push the red star", "go left"], ["move the blue cube to the left", "stop"]]
    eager = [vla.act_batch(images, ins) for ins in calls]
    keys = set(vla.state_dict())
    vla.compile_for_inference(mode)
    assert vla.backbone.compiled and set(vla.state_dict()) == keys
    assert not any(p.requires_grad for p in vla.parameters())
    for ins, ref in zip(calls, eager, strict=True):
        got = vla.act_batch(images, ins)
        np.testing.assert_array_equal(got.bins, ref.bins)
        np.testing.assert_allclose(got.dim_probs, ref.dim_probs, atol=1e-4)


def test_compile_names_backbones_without_a_compiled_path():
    vla = build_vla("tiny", "rt2")
    with pytest.raises(ValueError, match="no compiled path"):
        vla.compile_for_inference()
