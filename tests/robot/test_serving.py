"""The server with a two-camera, state-reading checkpoint, through the real openpi client."""

import numpy as np
import pytest
from openpi_client.websocket_client_policy import WebsocketClientPolicy
from so100 import CAMERAS, JOINTS

from rt2.data.reader import EpisodeDataset
from rt2.serving import BackgroundServer, ServeConfig, load_served_policy
from rt2.serving.protocol import ObservationSpec, RequestError, validate_observation
from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.trainer import Trainer

from .conftest import SMALL_BACKBONE

pytestmark = pytest.mark.filterwarnings("ignore:connect\\(\\) must be used:DeprecationWarning")
FRONT, WRIST = CAMERAS


@pytest.fixture(scope="module")
def served(tmp_path_factory, so100_dataset):
    out = tmp_path_factory.mktemp("serve")
    config = TrainConfig(
        name="so100-serve",
        model=ModelConfig(action_space="dataset", backbone_options=SMALL_BACKBONE, num_bins=32),
        data=DataConfig(weights={"robot": 1.0}, eval_episodes=3, eval_samples=8, state="tokens"),
        optim=OptimConfig(steps=2, batch_size=4, lr=1e-3, warmup_steps=1),
        precision="fp32",
        eval_every=2,
        save_every=2,
    )
    Trainer(config, out, so100_dataset).run(progress=False)
    policy, meta = load_served_policy(out)
    with BackgroundServer(policy, meta, ServeConfig(port=0)) as server:
        client = WebsocketClientPolicy(host="127.0.0.1", port=server.port)
        yield client, policy
        client._ws.close()


@pytest.fixture(scope="module")
def frame(so100_dataset):
    ds = EpisodeDataset(so100_dataset)
    row = ds[250]
    return {
        "images": {FRONT: row[FRONT], WRIST: row[WRIST]},
        "state": row["observation.state"],
        "prompt": row["task"],
    }


def test_metadata_names_the_cameras_and_the_state(served):
    client, _ = served
    meta = client.get_server_metadata()
    assert meta["cameras"] == [FRONT, WRIST]
    assert meta["state"] == {"names": list(JOINTS), "dim": 6}
    assert meta["action_space"]["names"] == list(JOINTS)


def test_openpi_client_with_both_cameras_and_the_state(served, frame):
    client, policy = served
    reply = client.infer(frame)
    assert reply["actions"].shape == (1, 6)
    local = policy.infer(
        {"images": frame["images"], "state": frame["state"], "instruction": frame["prompt"]}
    )
    np.testing.assert_array_equal(reply["actions"][0], local)
    # openpi's flat slash keys name the same cameras and state
    flat = {
        "observation/images/front": frame["images"][FRONT],
        "observation/images/wrist": frame["images"][WRIST],
        "observation/state": frame["state"],
        "prompt": frame["prompt"],
    }
    np.testing.assert_array_equal(client.infer(flat)["actions"][0], local)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"images": "drop wrist"},
            "this policy sees ['observation.images.front', 'observation.images.wrist']; the "
            "observation has ['observation.images.front'] (missing ['observation.images.wrist']",
        ),
        ({"state": np.zeros(5, np.float32)}, "state: this policy reads 6 entries ['shoulder_pan"),
        ({"state": None}, "missing field(s) ['state']: this policy reads 6 entries"),
        ({"images": None, "image": np.zeros((64, 64, 3), np.uint8)}, "not one unnamed 'image'"),
    ],
    ids=["missing camera", "wrong state size", "no state", "unnamed image"],
)
def test_a_wrong_observation_is_refused_naming_both(served, frame, change, message):
    client, _ = served
    obs = dict(frame)
    if change.get("images") == "drop wrist":
        obs["images"] = {FRONT: frame["images"][FRONT]}
    else:
        obs |= change
    obs = {k: v for k, v in obs.items() if v is not None}
    with pytest.raises(RuntimeError) as err:
        client.infer(obs)
    assert message in str(err.value), str(err.value)
    assert client.infer(frame)["actions"].shape == (1, 6)  # the connection keeps serving


def test_validation_without_a_multi_camera_spec_keeps_the_old_contract():
    obs = {"image": np.zeros((8, 8, 3), np.uint8), "instruction": "x", "state": [1.0, 2.0]}
    out = validate_observation(obs)
    assert set(out) == {"image", "instruction", "state"}
    spec = ObservationSpec((FRONT, WRIST))
    with pytest.raises(RequestError, match="unknown field"):
        validate_observation(obs | {"observation.images.top": obs["image"]}, spec=spec)
