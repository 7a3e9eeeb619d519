"""model.action_space=dataset: the space from meta/info.json, bounds over all training frames."""

import json
from dataclasses import replace

import numpy as np
import pytest
from so100 import CAMERAS, JOINTS

from rt2.actions import ActionSpace, DimKind
from rt2.data.features import vector_names
from rt2.data.reader import EpisodeDataset
from rt2.training.checkpoint import latest_checkpoint
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.factory import build_model, load_model
from rt2.training.trainer import Trainer

from .conftest import SMALL_BACKBONE


def config(**model) -> TrainConfig:
    return TrainConfig(
        name="so100",
        model=ModelConfig(action_space="dataset", backbone_options=SMALL_BACKBONE, **model),
        data=DataConfig(
            weights={"robot": 1.0}, eval_episodes=3, eval_samples=8, cameras=(CAMERAS[0],)
        ),
        optim=OptimConfig(steps=2, batch_size=4, lr=1e-3, warmup_steps=1),
        precision="fp32",
        eval_every=2,
        save_every=2,
    )


def test_gripper_by_name_or_declared():
    assert ActionSpace.from_names(JOINTS).kinds[-1] == DimKind.GRIPPER
    assert ActionSpace.from_names(JOINTS).kinds[:5] == (DimKind.CONTINUOUS,) * 5
    declared = ActionSpace.from_names(["a", "b", "claw"], gripper="claw")
    assert declared.kinds == (DimKind.CONTINUOUS, DimKind.CONTINUOUS, DimKind.GRIPPER)
    assert DimKind.GRIPPER not in ActionSpace.from_names(JOINTS, gripper="none").kinds
    with pytest.raises(ValueError, match=r"\['hand'\] not among the action names"):
        ActionSpace.from_names(JOINTS, gripper="hand")


def test_vector_names_in_lerobot_forms():
    f = {"action": {"dtype": "float32", "shape": [2], "names": {"motors": ["x", "y"]}}}
    assert vector_names(f, "action") == ("x", "y")
    f["action"]["names"] = None
    assert vector_names(f, "action") == ("action_0", "action_1")
    f["action"]["names"] = ["x"]
    with pytest.raises(ValueError, match=r"shape \[2\] but 1 names"):
        vector_names(f, "action")


def test_config_refuses_fixed_bounds_and_unknown_options():
    with pytest.raises(ValueError, match=r"model\.bounds='stats', got 'fixed'"):
        ModelConfig(action_space="dataset", bounds="fixed")
    with pytest.raises(ValueError, match=r"\['scale'\] unknown for the dataset space"):
        ModelConfig(action_space="dataset", action_space_options={"scale": 2})


def test_a_preset_of_the_wrong_size_names_both(tmp_path, so100_dataset):
    bad = replace(config(), model=replace(config().model, action_space="language_table"))
    with pytest.raises(
        ValueError, match=r"has 2 dims \['dx', 'dy'\].*have 6.*action_space=dataset"
    ):
        Trainer(bad, tmp_path, so100_dataset)


def test_space_from_the_dataset_round_trips_with_quantiles_over_all_frames(tmp_path, so100_dataset):
    Trainer(config(), tmp_path, so100_dataset).run(progress=False)
    ds = EpisodeDataset(so100_dataset)
    train_eps = range(ds.num_episodes - 3)
    frames = np.concatenate([ds.episode(i).actions for i in train_eps]).astype(np.float64)
    q01, q99 = np.quantile(frames, 0.01, axis=0), np.quantile(frames, 0.99, axis=0)
    per_episode = np.mean([np.quantile(ds.episode(i).actions, 0.01, axis=0) for i in train_eps], 0)
    assert not np.allclose(q01, per_episode, atol=1e-3)  # the two differ on this data

    model = load_model(tmp_path)
    space = model.action_space
    assert space.name == "dataset" and space.names == JOINTS
    assert space.kinds[-1] == DimKind.GRIPPER
    assert np.allclose(space.low, q01) and np.allclose(space.high, q99)
    saved = json.loads((latest_checkpoint(tmp_path) / "vla.json").read_text())
    assert ActionSpace.from_dict(saved["action_tokenizer"]["space"]) == space
    act = model.act(ds.episode(10).images[0], ds.episode(10).instruction)
    assert act.shape == (6,) and np.all((act >= space.low) & (act <= space.high))


@pytest.mark.parametrize(
    "model", [dict(mapping="integers"), dict(decoding="parallel", chunk=3)], ids=["int", "chunk"]
)
def test_dataset_space_with_integer_mapping_and_parallel_chunks(so100_dataset, model):
    from rt2.actions import compute_stats
    from rt2.data.robot import dataset_action_names, load_robot_sources

    cfg = config(**model).model
    source, _ = load_robot_sources(so100_dataset, 3, chunk=cfg.chunk)
    vla = build_model(cfg, compute_stats(source.actions), (), dataset_action_names(so100_dataset))
    out = vla.loss(vla.collate([source[0], source[23]]))  # 23: a chunk past the episode end
    assert np.isfinite(out.metrics["loss"])
    res = vla.act_batch([source[0].image], [source[0].instruction])
    assert res.actions.shape == (1, 6)
    if cfg.chunk > 1:
        assert res.chunks is not None and res.chunks.shape == (1, 3, 6)


def test_init_keeps_learned_bins_only_for_the_same_action_names(tmp_path, so100_dataset):
    from rt2.actions import compute_stats

    Trainer(config(), tmp_path, so100_dataset).run(progress=False)
    learned = load_model(tmp_path).action_space
    cfg = replace(config().model, init=str(tmp_path))
    stats = compute_stats(np.random.default_rng(0).normal(size=(50, 6)))
    same = build_model(cfg, stats, (), JOINTS)
    assert same.action_space == learned  # continues with the bins it learned
    other = [f"joint_{i}" for i in range(6)]
    fresh = build_model(cfg, stats, (), other)  # another robot's actions: bins of its own
    assert fresh.action_space.names == tuple(other)
    assert np.allclose(fresh.action_space.high, stats["q99"])
