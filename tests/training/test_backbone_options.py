"""Typed backbone options: checked when the config is built, shipped checkpoints still load."""

import dataclasses
import json
from pathlib import Path

import pytest

import rt2.weights
from rt2.backbones.rt2_mini import RT2MiniConfig
from rt2.backbones.tiny import TinyConfig
from rt2.baselines.rt1.config import RT1Config
from rt2.cli import main
from rt2.training.config import ModelConfig, TrainConfig, apply_overrides
from rt2.training.config_report import changed_fields, differences, resolved_dict
from rt2.training.presets import describe_presets, get_preset

SHIPPED = sorted(Path(rt2.weights.__file__).parent.glob("*/config.json"))
CLASSES = {"tiny": TinyConfig, "rt2-mini": RT2MiniConfig}


def _expected_class(model: ModelConfig) -> type:
    return RT1Config if model.kind == "rt1" else CLASSES[model.backbone]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
def test_every_shipped_checkpoint_config_loads(path):
    data = json.loads(path.read_text())
    config = TrainConfig.from_dict(data)
    typed = config.model.backbone_config()
    assert isinstance(typed, _expected_class(config.model))
    for name, value in data["model"]["backbone_options"].items():  # every given option kept
        got = getattr(typed, name)
        assert (list(got) if isinstance(got, tuple) else got) == value
    assert config.to_dict()["model"]["backbone_options"] == data["model"]["backbone_options"]


def test_shipped_checkpoints_exist():
    assert {"tiny-vla", "rt1-wip"} <= {p.parent.name for p in SHIPPED}


def test_the_shipped_tiny_vla_builds_from_its_config():
    from rt2.training.factory import load_model

    model = load_model(rt2.weights.resolve("rt2:tiny-vla"))
    assert (
        model.backbone.config
        == ModelConfig(
            backbone="tiny", backbone_options={"pool": 1, "stem": "efficientnet-lite0"}
        ).backbone_config()
    )


@pytest.mark.parametrize("name", [n for n, _ in describe_presets()])
def test_every_preset_has_typed_options(name):
    model = get_preset(name).model
    assert isinstance(model.backbone_config(), _expected_class(model))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            {"backbone_options": {"lm_dimm": 64}},
            r"backbone_options\.lm_dimm.*did you mean 'lm_dim'",
        ),
        ({"backbone_options": {"stem": "vit"}}, r"backbone_options\.stem: expected one of"),
        ({"backbone_options": {"pool": "2"}}, r"backbone_options\.pool: expected int"),
        ({"backbone_options": {"prefix_lm": 1}}, r"backbone_options\.prefix_lm: expected bool"),
        ({"backbone_options": {"pool": 3}}, r"backbone_options: TinyConfig.*pool 3"),
        ({"backbone": "rt2-mini", "backbone_options": {"lm": "llama"}}, r"backbone_options\.lm"),
        ({"backbone": "rt2-mini", "backbone_options": {"lora_targets": "q_proj"}}, "lora_targets"),
        ({"backbone": "rt2-mini", "backbone_options": {"ground": True}}, "ground needs film"),
        ({"backbone": "hf"}, r"HFConfig\.model"),
        ({"backbone": "vit-huge"}, r"model\.backbone: unknown backbone 'vit-huge'"),
        ({"kind": "rt1", "backbone_options": {"frames": 3}}, r"frames=3 disagrees.*history=0"),
        ({"kind": "rt1", "backbone_options": {"feature_stride": 8}}, r"feature_stride: expected"),
        ({"kind": "rt1", "backbone_options": {"pool": 1}}, r"pool: unknown option of RT1Config"),
        ({"kind": "transformer"}, r"model\.kind"),
        ({"decoding": "beam"}, r"model\.decoding"),
    ],
)
def test_bad_backbone_options_fail_when_the_config_is_built(model, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**model)


def test_bad_options_fail_in_overrides_and_from_dict():
    with pytest.raises(ValueError, match=r"backbone_options\.lm_dimm"):
        apply_overrides(TrainConfig(), ["model.backbone_options=lm_dimm:64"])
    data = TrainConfig().to_dict()
    data["model"]["backbone_options"] = {"vision_layers": 0}
    with pytest.raises(ValueError, match="vision_layers must be positive"):
        TrainConfig.from_dict(data)


def test_json_lists_become_tuples_only_in_the_typed_options():
    model = ModelConfig(
        backbone="rt2-mini", backbone_options={"lora_rank": 4, "lora_targets": ["q_proj"]}
    )
    assert model.backbone_config().lora_targets == ("q_proj",)
    assert model.backbone_options["lora_targets"] == ["q_proj"]  # stored as given


def test_rt1_frames_follow_history():
    model = ModelConfig(kind="rt1", history=2, backbone_options={"text_encoder": "hash"})
    assert model.backbone_config() == RT1Config(frames=3, text_encoder="hash")


def test_differences_from_the_defaults():
    assert differences(TrainConfig()) == []
    config = apply_overrides(get_preset("tiny-demo"), ["optim.lr=0.005"])
    rows = {k: (d, v) for k, d, v in differences(config)}
    assert rows["optim.lr"] == (1e-3, 0.005)
    assert rows["name"] == ("custom", "tiny-demo")
    for key, (default, value) in rows.items():
        if key.startswith("model.backbone_options."):
            field = key.rsplit(".", 1)[1]
            assert default == TinyConfig.__dataclass_fields__[field].default != value
    resolved = resolved_dict(config)["model"]["backbone_options"]
    assert resolved == dataclasses.asdict(config.model.backbone_config())


def test_changed_fields_name_what_a_resume_does_not_apply():
    saved = get_preset("rt2-mini-v2")
    given = apply_overrides(saved, ["rollout_every=250", "optim.lr=0.001"])
    assert changed_fields(saved, saved) == []
    assert changed_fields(given, saved) == [
        "optim.lr: 0.0005 -> 0.001",
        "rollout_every: 500 -> 250",
    ]


def test_train_show_prints_the_config_and_trains_nothing(capsys, tmp_path):
    assert main(["train", "--preset", "rt1-tabletop", "--show", "optim.lr=0.002"]) == 0
    out = capsys.readouterr().out
    assert '"feature_stride": 16' in out  # resolved RT-1 options
    assert "optim.lr: 0.001 -> 0.002" in out
    assert "model.backbone_options.feature_stride: 32 -> 16" in out
    assert not list(tmp_path.iterdir())
