import itertools
import re
from dataclasses import replace

import pytest

from rt2.training.config import (
    DataConfig,
    ModelConfig,
    OptimConfig,
    TrainConfig,
    apply_overrides,
)
from rt2.training.presets import PRESETS, describe_presets, get_preset
from rt2.training.schedule import learning_rate


def test_overrides_parse_by_field_type():
    cfg = apply_overrides(
        TrainConfig(),
        ["optim.lr=3e-4", "optim.steps=7", "data.weights=robot:0.7,web:0.3", "model.freeze=backbone.patch,backbone.vision",
         "model.init=none", "precision=fp32", "model.backbone_options=lm_dim:64,stem:efficientnet-lite0"],
    )  # fmt: skip
    assert cfg.optim.lr == 3e-4 and cfg.optim.steps == 7
    assert cfg.data.weights == {"robot": 0.7, "web": 0.3}
    assert cfg.model.freeze == ("backbone.patch", "backbone.vision")
    assert cfg.model.init is None and cfg.precision == "fp32"
    assert cfg.model.backbone_options == {"lm_dim": 64, "stem": "efficientnet-lite0"}
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        ("optim.lrr=1", KeyError, "did you mean 'lr'"),
        ("optim.steps=many", ValueError, r"optim\.steps='many'"),
        ("optim.steps=0", ValueError, r"optim\.steps: expected >= 1, got 0"),
        ("precision=fp8", ValueError, "precision"),
        ("data.weights=robot:-1", ValueError, "data.weights"),
        ("data.weights=robot:1,youtube:1", ValueError, "unknown sources"),
        ("data.web_weights=caption:lots", ValueError, r"data\.web_weights='caption:lots'"),
        ("lr", ValueError, "expected KEY=VALUE"),
    ],
)
def test_bad_overrides_name_the_field(override, error, message):
    with pytest.raises(error, match=message):
        apply_overrides(TrainConfig(), [override])


def test_config_validation():
    with pytest.raises(ValueError, match=r"multiple of optim\.grad_accum"):
        OptimConfig(batch_size=10, grad_accum=3)
    with pytest.raises(ValueError, match=r"data\.eval_samples"):
        DataConfig(eval_samples=-1)


def test_grounding_options_need_a_grounding_head_and_a_plan():
    """The grounding loss and a head-written plan need rt2-mini's ``ground``; the head writes a
    plan only where the data has one."""
    v2 = get_preset("rt2-mini-v2")
    assert v2.model.plan_source == "head" and v2.model.backbone_options["ground"]
    headless = {**v2.model.backbone_options, "ground": False}
    for field, value in (("grounding_weight", 1.0), ("plan_source", "head")):
        with pytest.raises(ValueError, match=rf"model\.{field}.*ground=False"):
            ModelConfig(backbone="rt2-mini", backbone_options=headless, **{field: value})
    with pytest.raises(ValueError, match=r"model\.plan_source: expected 'lm' or 'head'"):
        replace(v2.model, plan_source="oracle")
    with pytest.raises(ValueError, match=r"plan_source='head' writes a plan"):
        apply_overrides(v2, ["data.plan_bins=0"])


def test_execute_steps_must_fit_the_chunk():
    v2 = get_preset("rt2-mini-v2")
    assert replace(v2.model, execute_steps=v2.model.chunk).execute_steps == v2.model.chunk
    for bad in (0, v2.model.chunk + 1):
        with pytest.raises(ValueError, match=r"model\.execute_steps: expected None or 1\.\.chunk"):
            replace(v2.model, execute_steps=bad)


def test_schedule_warms_up_then_decays():
    optim = OptimConfig(steps=100, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    lrs = [learning_rate(s, optim) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(lrs[9:]))
    assert lrs[-1] == pytest.approx(0.1, abs=0.01)


def test_presets_are_documented():
    assert {
        "tiny-demo",
        "tiny-ecot",
        "tiny-scratch",
        "tiny-pretrain",
        "tiny-finetune",
        "tiny-cofinetune",
    } <= set(PRESETS)
    for name, fn in PRESETS.items():
        doc = " ".join((fn.__doc__ or "").split())
        sections = re.fullmatch(r".*Command: (.+) Runtime: (.+) Expected: (.+)", doc)
        assert sections is not None, f"{name}: Command:, Runtime:, Expected: in this order"
        command, runtime, _ = sections.groups()
        config = get_preset(name)
        assert config.name == name
        # the command trains this preset, and every preset it names exists
        assert f"--preset {name}" in command, (name, command)
        assert set(re.findall(r"--preset ([\w.-]+)", command)) <= set(PRESETS), command
        # a runtime stated in steps and batch states this preset's
        for steps, batch in re.findall(r"([\d,]+) steps of (\d+) samples", runtime):
            assert (int(steps.replace(",", "")), int(batch)) == (
                config.optim.steps,
                config.optim.batch_size,
            ), (name, runtime)
    assert len(describe_presets()) == len(PRESETS)
    with pytest.raises(KeyError, match="did you mean 'tiny-demo'"):
        get_preset("tiny-dem")
