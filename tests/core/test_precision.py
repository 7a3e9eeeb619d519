"""Precision defaults follow the hardware: bf16 only where it runs natively."""

import pytest

from rt2 import precision
from rt2.actions import ActionSpace, ActionTokenizer
from rt2.baselines.rt1 import RT1, RT1Config
from rt2.policies.rt1 import RT1Policy
from rt2.training.config import TrainConfig


@pytest.fixture
def forced(monkeypatch):
    """Set RT2_PRECISION and drop the cached answer, before and after."""

    def force(value: str) -> None:
        monkeypatch.setenv(precision.ENV_VAR, value)
        precision.native_bf16.cache_clear()

    yield force
    monkeypatch.delenv(precision.ENV_VAR, raising=False)
    precision.native_bf16.cache_clear()


@pytest.mark.parametrize("value, train, infer", [("bf16", "bf16", "bfloat16"),
                                                 ("fp32", "fp32", "float32")])  # fmt: skip
def test_auto_resolves_to_what_runs_natively(forced, value, train, infer):
    forced(value)
    assert precision.training_precision("auto") == train
    assert precision.inference_precision() == infer
    # an explicit request is kept whatever the hardware
    assert precision.training_precision("bf16") == "bf16"
    assert precision.training_precision("fp32") == "fp32"


def test_bad_values_are_named(forced):
    with pytest.raises(ValueError, match="fp8"):
        precision.training_precision("fp8")
    forced("half")
    with pytest.raises(ValueError, match=r"RT2_PRECISION.*half"):
        precision.native_bf16()


def test_train_config_defaults_to_auto_and_policies_follow(forced):
    assert TrainConfig().precision == "auto"
    with pytest.raises(ValueError, match="'auto', 'bf16' or 'fp32'"):
        TrainConfig(precision="fp16")
    tok = ActionTokenizer(ActionSpace.preset("language_table"), 21)
    model = RT1(RT1Config(image_size=64, frames=2, tokens_per_frame=2, token_learner_hidden=8,
                          d_model=16, num_layers=1, num_heads=2, ff_dim=16, frozen_blocks=12,
                          text_encoder="hash"), tok)  # fmt: skip
    forced("fp32")
    assert RT1Policy(model).model.precision == "float32"
    forced("bf16")
    assert RT1Policy(model).model.precision == "bfloat16"
    assert RT1Policy(model, precision="float32").model.precision == "float32"
