"""The rt2-mini presets: alignment -> fine-tuning vs co-fine-tuning from the aligned checkpoint."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rt2.training.config import apply_overrides
from rt2.training.presets import get_preset


def test_align_trains_the_projector_on_web_data_only():
    cfg = get_preset("rt2-mini-align")
    m = cfg.model
    assert (m.backbone, m.action_space, m.mapping, m.init) == (
        "rt2-mini",
        "language_table",
        "reserved",
        None,
    )
    # the LoRA exists (so the checkpoint loads into the LoRA stages) but stays frozen
    assert m.backbone_options == {"freeze_vision": True, "freeze_lm": True, "lora_rank": 8}
    assert m.freeze == ("backbone.lm.",)
    assert cfg.data.weights == {"web": 1.0}
    assert m.bounds == "fixed"  # no robot data, so no action statistics


@pytest.mark.parametrize(
    ("name", "weights"),
    [("rt2-mini-finetune", {"robot": 1.0}), ("rt2-mini-cofinetune", {"robot": 0.5, "web": 0.5})],
)
def test_robot_stages_start_from_the_aligned_run_with_lora(name, weights):
    cfg, align = get_preset(name), get_preset("rt2-mini-align")
    assert cfg.model.init == "runs/rt2-mini-align"
    assert cfg.data.weights == weights
    assert cfg.model.backbone_options == align.model.backbone_options
    assert cfg.model.freeze == ()  # LoRA and projector train
    assert cfg.model.bounds == "stats"
    # only the data, the start and what is frozen differ from the aligned run
    assert cfg.model.num_bins == align.model.num_bins and cfg.optim == align.optim
    moved = apply_overrides(cfg, ["model.init=/tmp/aligned"])
    assert moved.model.init == "/tmp/aligned"


@pytest.mark.slow
def test_aligned_checkpoint_starts_the_lora_stages(tmp_path):
    """Alignment trains only the projector, and its checkpoint loads (strictly) as model.init."""
    import torch

    from rt2.training.checkpoint import save_checkpoint
    from rt2.training.factory import build_model

    align = get_preset("rt2-mini-align").model
    model = build_model(align, None)
    for name, p in model.named_parameters():
        p.requires_grad_(p.requires_grad and not name.startswith(align.freeze))
    trainable = {n.split(".")[1] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"projector"}
    with torch.no_grad():
        model.backbone.projector[1].weight.fill_(0.5)
    save_checkpoint(tmp_path, 1, model, {})
    for name in ("rt2-mini-finetune", "rt2-mini-cofinetune"):
        cfg = apply_overrides(get_preset(name), [f"model.init={tmp_path}", "model.bounds=fixed"])
        started = build_model(cfg.model, None)
        assert bool((started.backbone.projector[1].weight == 0.5).all())
        lora = [n for n, p in started.named_parameters() if "lora_" in n and p.requires_grad]
        assert lora, name


def test_ablation_rows_share_the_headline_recipe_and_robot_samples():
    """Table 6's rows: the co-fine-tuned run's recipe and schedule, robot data only, cut where
    the headline had passed the same robot samples; scratch differs only in its weights."""
    from rt2.training.presets import ABLATION_ROBOT_SAMPLES

    head, ft, scratch = (get_preset(n) for n in ("rt2-mini", "rt2-mini-ft", "rt2-mini-scratch"))
    assert ft.data.weights == scratch.data.weights == {"robot": 1.0}
    assert ft.optim.stop_at * ft.optim.batch_size == ABLATION_ROBOT_SAMPLES
    co_step = ABLATION_ROBOT_SAMPLES / (head.optim.batch_size * head.data.weights["robot"])
    assert co_step == pytest.approx(500)  # the exported rt2:rt2-mini-co
    for cfg in (ft, scratch):
        assert replace(cfg.optim, stop_at=None) == head.optim  # the same schedule, cut
        assert replace(cfg.model, backbone_options={}) == replace(head.model, backbone_options={})
    assert ft.model.backbone_options == head.model.backbone_options
    options = dict(scratch.model.backbone_options)
    assert (options.pop("pretrained"), options.pop("init_seed")) == (False, 0)
    assert options == head.model.backbone_options
