"""data.cameras: several cameras, each in its own token block with a learned camera embedding."""

import json

import numpy as np
import pytest
import torch
from so100 import CAMERAS

from rt2.data.reader import EpisodeDataset
from rt2.observations import camera_views
from rt2.policies.vla import VLAPolicy
from rt2.training.checkpoint import latest_checkpoint
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.factory import load_model
from rt2.training.trainer import Trainer

from .conftest import SMALL_BACKBONE

FRONT, WRIST = CAMERAS


def config(**data) -> TrainConfig:
    return TrainConfig(
        name="so100-cameras",
        model=ModelConfig(action_space="dataset", backbone_options=SMALL_BACKBONE, num_bins=64),
        data=DataConfig(weights={"robot": 1.0}, eval_episodes=3, eval_samples=8, **data),
        optim=OptimConfig(steps=2, batch_size=4, lr=1e-3, warmup_steps=1),
        precision="fp32",
        eval_every=2,
        save_every=2,
    )


@pytest.fixture(scope="module")
def two_camera_run(tmp_path_factory, so100_dataset):
    out = tmp_path_factory.mktemp("cams")
    Trainer(config(), out, so100_dataset).run(progress=False)
    return out


def test_every_camera_by_default_each_in_its_block(two_camera_run, so100_dataset):
    spec = json.loads((latest_checkpoint(two_camera_run) / "vla.json").read_text())
    assert spec["cameras"] == [FRONT, WRIST]
    model = load_model(two_camera_run)
    bb = model.backbone
    assert model.cameras == (FRONT, WRIST) and bb.cameras == 2
    assert bb.num_image_tokens == 2 * 16  # 64 px / 16 px patches = 16 tokens per camera
    ep = EpisodeDataset(so100_dataset).episode(10)
    front, wrist = ep.images[0], EpisodeDataset(so100_dataset).images([240], WRIST)[0]
    pixels = bb.preprocess_images(np.stack([front, wrist, wrist, front]))  # two samples
    tokens = bb.image_tokens(pixels)  # (2, 32, D)
    assert tokens.shape[:2] == (2, 32)
    # the same view in the other block differs by the two camera embeddings exactly
    emb = bb.camera_embedding.detach()
    assert not torch.allclose(emb[0], emb[1])
    assert torch.allclose(tokens[0, :16] - tokens[1, 16:], emb[0] - emb[1], atol=1e-5)


def test_the_camera_embedding_learns(so100_dataset, tmp_path):
    trainer = Trainer(config(), tmp_path, so100_dataset)
    model = trainer.unwrapped
    samples = [trainer.data.train["robot"][i] for i in (0, 30, 60, 90)]
    assert samples[0].image.shape == (2, 64, 64, 3)
    model.loss(model.collate(samples)).loss.backward()
    grad = model.backbone.camera_embedding.grad
    assert grad is not None and float(grad.abs().sum()) > 0


def test_acting_checks_the_cameras_by_name(two_camera_run, so100_dataset):
    policy = VLAPolicy(load_model(two_camera_run))
    ds = EpisodeDataset(so100_dataset)
    front, wrist = ds.images([240], FRONT)[0], ds.images([240], WRIST)[0]
    base = {"instruction": ds.instruction(240)}
    assert policy.infer(base | {"images": {WRIST: wrist, FRONT: front}}).shape == (6,)
    with pytest.raises(
        ValueError,
        match=r"sees cameras \[.*front.*wrist'\]; the observation has \[.*front'\] \(missing \['observation.images.wrist'\]",
    ):
        policy.infer(base | {"images": {FRONT: front}})
    with pytest.raises(ValueError, match=r"extra \['top'\]"):
        policy.infer(base | {"images": {FRONT: front, WRIST: wrist, "top": front}})
    with pytest.raises(ValueError, match="one unnamed 'image'"):
        policy.infer(base | {"image": front})
    with pytest.raises(ValueError, match=r"camera 'observation.images.wrist': expected uint8"):
        policy.infer(base | {"images": {FRONT: front, WRIST: wrist.astype(np.float32)}})


def test_camera_views_resizes_and_orders():
    a, b = np.zeros((8, 8, 3), np.uint8), np.full((4, 6, 3), 255, np.uint8)
    views = camera_views({"images": {"b": b, "a": a}}, ("a", "b"))
    assert views.shape == (2, 8, 8, 3) and views[0].max() == 0 and views[1].min() == 255


def test_chosen_cameras_are_checked_against_the_dataset(tmp_path, so100_dataset):
    Trainer(config(cameras=(WRIST,)), tmp_path / "wrist", so100_dataset).run(progress=False)
    model = load_model(tmp_path / "wrist")
    assert model.cameras == (WRIST,) and model.backbone.cameras == 1
    with pytest.raises(ValueError, match=r"data.cameras=\['top'\]: the dataset's cameras are \["):
        Trainer(config(cameras=("top",)), tmp_path / "top", so100_dataset)


def test_rt1_sees_one_camera(so100_dataset):
    from rt2.data.robot import dataset_cameras

    assert dataset_cameras(so100_dataset, (), "rt1") == (FRONT,)
    assert dataset_cameras(so100_dataset, (WRIST,), "rt1") == (WRIST,)
    with pytest.raises(ValueError, match="RT-1 sees one camera; name one"):
        dataset_cameras(so100_dataset, (FRONT, WRIST), "rt1")
